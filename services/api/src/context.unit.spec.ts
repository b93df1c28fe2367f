import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ErrorCode, StrataError } from '@strata/errors';
import type { NatsRequester, RequestMeta } from '@strata/runtime';
import { ReadYourWrites, buildRequestMeta, incomingTrace } from './context.js';
import { IpamClient } from './ipam.js';
import { SecgroupClient } from './secgroup.js';

const alice = { name: 'alice', tenant: 't1', admin: false };
const now = new Date('2024-05-01T14:03:00.000Z');

function md(entries: Record<string, string>): Metadata {
  const m = new Metadata();
  for (const [k, v] of Object.entries(entries)) m.add(k, v);
  return m;
}

describe('buildRequestMeta', () => {
  it('stamps the principal, a fresh request id, correlation = request id, and the time', () => {
    const meta = buildRequestMeta(md({}), alice, { now });
    expect(meta).toMatchObject({ actor: 'alice', tenant: 't1', admin: false, at: '2024-05-01T14:03:00.000Z' });
    expect(meta.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta.correlationId).toBe(meta.requestId);
    expect(meta).not.toHaveProperty('trace');
  });

  it('takes the client’s request and correlation ids', () => {
    const meta = buildRequestMeta(
      md({ 'x-request-id': '3F2A9C1E-5B7D-4E2F-8A10-0C9D8E7F6A5B', 'x-correlation-id': 'deploy-42' }),
      alice,
      { now },
    );
    expect(meta.requestId).toBe('3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b');
    expect(meta.correlationId).toBe('deploy-42');
  });

  it('rejects a request id that is not a UUID, naming the metadata key', () => {
    try {
      buildRequestMeta(md({ 'x-request-id': 'retry-1' }), alice);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(StrataError);
      expect((err as StrataError).code).toBe(ErrorCode.InvalidArgument);
      expect((err as StrataError).message).toMatch(/x-request-id must be a UUID/);
    }
  });

  it('carries the given trace context', () => {
    const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    expect(buildRequestMeta(md({}), alice, { trace }).trace).toEqual(trace);
  });
});

describe('incomingTrace', () => {
  it('reads traceparent and tracestate', () => {
    expect(incomingTrace(md({ traceparent: 'tp', tracestate: 'ts' }))).toEqual({ traceparent: 'tp', tracestate: 'ts' });
    expect(incomingTrace(md({ tracestate: 'ts' }))).toBeUndefined();
  });
});

describe('ReadYourWrites', () => {
  it('remembers the highest sequence a command reported', () => {
    const ryw = new ReadYourWrites();
    expect(ryw.minSeq()).toBeUndefined();
    ryw.observe(undefined);
    expect(ryw.minSeq()).toBeUndefined();
    ryw.observe(7);
    ryw.observe(5);
    expect(ryw.minSeq()).toBe(7);
  });
});

describe('one ReadYourWrites shared by the service clients', () => {
  /** A requester that answers every request with `seq` and remembers what it was sent. */
  function fakeRequester() {
    const sent: Array<{ subject: string; meta: RequestMeta }> = [];
    let seq: number | undefined;
    const requester = {
      request: (subject: string, _body: unknown, meta: RequestMeta) => {
        sent.push({ subject, meta });
        return Promise.resolve(seq === undefined ? { result: {} } : { result: {}, seq });
      },
    } as unknown as NatsRequester;
    return { requester, sent, answerWith: (s: number | undefined) => (seq = s) };
  }
  const meta: RequestMeta = { actor: 'alice', tenant: 't1', admin: false, requestId: 'r', correlationId: 'r', at: now.toISOString() };

  it('gives secgroup queries the sequence of an IPAM write, and IPAM queries that of a secgroup write', async () => {
    const fake = fakeRequester();
    const ryw = new ReadYourWrites();
    const ipam = new IpamClient(fake.requester, ryw);
    const secgroup = new SecgroupClient(fake.requester, ryw);

    await secgroup.query('port.get', { portId: 'p' }, meta);
    expect(fake.sent.at(-1)).toEqual({ subject: 'strata.qry.secgroup.port.get', meta });

    fake.answerWith(12);
    await ipam.command('port.create', { networkId: 'n' }, meta);
    fake.answerWith(undefined);
    await secgroup.query('port.get', { portId: 'p' }, meta);
    expect(fake.sent.at(-1)!.meta.minSeq).toBe(12);

    fake.answerWith(20);
    await secgroup.command('port.setGroups', { portId: 'p', groupIds: [] }, meta);
    fake.answerWith(undefined);
    await ipam.query('port.get', { id: 'p' }, meta);
    expect(fake.sent.at(-1)).toMatchObject({ subject: 'strata.qry.ipam.port.get', meta: { minSeq: 20 } });
    // Commands carry it too (set-groups right after port create must see the port); the caller's meta is never changed.
    expect(fake.sent.find((r) => r.subject === 'strata.cmd.secgroup.port.setGroups')!.meta.minSeq).toBe(12);
    expect(meta).not.toHaveProperty('minSeq');
  });
});
