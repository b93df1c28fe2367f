import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineContract } from '@strata/contracts';
import type { HandlerContext, RequestMeta } from '@strata/runtime';
import type { Caller } from './decision.js';
import { queryHandlers } from './handlers.js';

interface State {
  seq: number;
  names: string[];
}

const meta = (extra: Partial<RequestMeta> = {}): RequestMeta => ({
  actor: 'alice',
  tenant: 't1',
  admin: false,
  requestId: 'r1',
  correlationId: 'c1',
  at: '2024-01-01T00:00:00.000Z',
  ...extra,
});
const ctx = {} as HandlerContext;
// The schemas are only handed through to the handlers (serve validates with them).
const schemaA = z.object({ id: z.string().optional() });
const schemaB = z.object({});
const contract = defineContract('test', {
  commands: {},
  queries: { 'a.get': { request: schemaA, reply: z.unknown() }, 'b.list': { request: schemaB, reply: z.unknown() } },
});
const onlyA = defineContract('test', { commands: {}, queries: { 'a.get': { request: schemaA, reply: z.unknown() } } });

function fakeProjection(state: State) {
  const waited: number[] = [];
  return {
    waited,
    state,
    async waitFor(seq: number) {
      waited.push(seq);
      state.seq = Math.max(state.seq, seq);
      state.names.push(`caught up to ${seq}`);
    },
  };
}

describe('queryHandlers', () => {
  it('makes one handler per schema, with that schema', () => {
    const p = fakeProjection({ seq: 1, names: [] });
    const handlers = queryHandlers(contract, { 'a.get': () => 1, 'b.list': () => 2 }, p);
    expect(Object.keys(handlers).sort()).toEqual(['a.get', 'b.list']);
    expect(handlers['a.get']!.schema).toBe(schemaA);
    expect(handlers['b.list']!.schema).toBe(schemaB);
  });

  it('answers from the current state, with the caller and body, and the state’s sequence', async () => {
    const p = fakeProjection({ seq: 7, names: ['x'] });
    const seen: Array<{ caller: Caller; body: unknown }> = [];
    const handlers = queryHandlers(onlyA, {
      'a.get': (s: State, caller: Caller, body: unknown) => {
        seen.push({ caller, body });
        return s.names.length;
      },
    }, p);
    await expect(handlers['a.get']!.handle({ id: 'q' }, meta(), ctx)).resolves.toEqual({ result: 1, seq: 7 });
    expect(seen).toEqual([{ caller: { actor: 'alice', tenant: 't1', admin: false, requestId: 'r1', at: '2024-01-01T00:00:00.000Z' }, body: { id: 'q' } }]);
    expect(p.waited).toEqual([]);
  });

  it('waits for `minSeq` before reading (read-your-writes)', async () => {
    const p = fakeProjection({ seq: 3, names: [] });
    const handlers = queryHandlers(onlyA, { 'a.get': (s: State) => [...s.names] }, p);
    await expect(handlers['a.get']!.handle({}, meta({ minSeq: 9 }), ctx)).resolves.toEqual({ result: ['caught up to 9'], seq: 9 });
    expect(p.waited).toEqual([9]);
  });

  it('passes a projection failure to the caller', async () => {
    const err = new Error('projection stopped');
    const handlers = queryHandlers(onlyA, { 'a.get': () => 1 }, { state: { seq: 0 }, waitFor: () => Promise.reject(err) });
    await expect(handlers['a.get']!.handle({}, meta({ minSeq: 1 }), ctx)).rejects.toBe(err);
  });
});
