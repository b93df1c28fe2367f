/** The positions query's answer: the reply envelope for a good request, a refused one, and one whose minSeq is not reached in time. */
import { describe, expect, it } from 'vitest';
import { HostviewPositionsReply } from '@strata/contracts';
import { SeqWaiters } from '@strata/service-kit';
import { parseReply } from '@strata/runtime';
import { answerPositions, type PositionsSource } from './positions-query.js';

const P1 = '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b';
const silent = { error: () => undefined, warn: () => undefined } as never;

function source(seq: number): PositionsSource & { waiters: SeqWaiters } {
  const waiters = new SeqWaiters();
  waiters.advance(seq);
  return {
    waiters,
    waitFor: (s, ms) => waiters.waitFor(s, ms),
    seq,
    hostPositions: () => [{ hostId: 'hv-1', position: 7 }],
    holders: (kind, id) => (kind === 'port' && id === P1 ? [{ hostId: 'hv-1', position: 5 }] : []),
  };
}
const ask = (body: unknown, seq = 9, waitMs = 50) =>
  answerPositions(new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)), { source: source(seq), partition: '0/2', waitMs, logger: silent });

describe('answerPositions', () => {
  it("answers the partition's hosts and a resource's holders in the runtime's reply envelope", async () => {
    const reply = parseReply(JSON.parse(JSON.stringify(await ask({ minSeq: 9, resource: { kind: 'port', id: P1 } }))));
    expect(reply).toEqual({ ok: true, seq: 9, result: { partition: '0/2', seq: 9, hosts: [{ hostId: 'hv-1', position: 7 }], holders: [{ hostId: 'hv-1', position: 5 }] } });
    expect(HostviewPositionsReply.parse(reply!.ok && reply.result)).toBeTruthy();
    expect(await ask({ minSeq: 0 })).toMatchObject({ ok: true, result: { holders: [] } });
  });

  it('refuses a request that is not JSON or not a positions request, naming what is wrong', async () => {
    expect(await ask('{nope')).toEqual({ ok: false, error: { code: 'INVALID_ARGUMENT', message: 'invalid request: payload is not JSON', details: {} } });
    const bad = await ask({ minSeq: -1, resource: { kind: 'volume', id: 'x' } });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.code).toBe('INVALID_ARGUMENT');
    expect(!bad.ok && bad.error.message).toMatch(/minSeq/);
    expect(!bad.ok && bad.error.message).toMatch(/resource\.kind/);
  });

  it('answers UNAVAILABLE when the model does not reach minSeq in time', async () => {
    const r = await ask({ minSeq: 10 }, 9, 20);
    expect(r).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
  });
});
