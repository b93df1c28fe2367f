import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineContract, Deleted } from '@strata/contracts';
import { defineEvent, EventRegistry, InMemoryEventStore, type StoredEvent } from '@strata/eventlog';
import { createLogger, type HandlerContext, type RequestMeta } from '@strata/runtime';
import type { Caller, Decision } from './decision.js';
import { Executor } from './executor.js';
import { commandHandlers } from './handlers.js';
import { Projection, type ProjectedState } from './projection.js';

const Named = defineEvent({ type: 'x.Named', version: 1, schema: z.object({ name: z.string() }) });
const registry = new EventRegistry([Named] as const);
type State = ProjectedState & { names: Record<string, string[]>; versions: Record<string, number> };
type NewX = { type: 'x.Named'; data: { name: string } };

const Thing = z.object({ id: z.string(), names: z.array(z.string()) });
const contract = defineContract('x', {
  commands: {
    'thing.name': { request: z.object({ id: z.string(), name: z.string().default('unnamed') }), reply: Thing },
    'thing.remove': { request: z.object({ id: z.string() }), reply: Deleted },
  },
  queries: {},
});

const meta = (requestId: string): RequestMeta => ({ actor: 'alice', tenant: 't1', admin: false, requestId, correlationId: requestId, at: '2026-01-01T00:00:00.000Z' });
const ctx = { trace: undefined } as HandlerContext;

const name = (s: State, id: string, value: string): Decision<NewX> => ({
  kind: 'append',
  aggregate: { context: 'x', type: 'thing', id },
  expectedVersion: s.versions[id] ?? 0,
  tenant: 't1',
  event: { type: 'x.Named', data: { name: value } },
  resourceId: id,
});

async function setup() {
  const store = new InMemoryEventStore();
  const projection = new Projection<State, ReturnType<typeof registry.decode>>({
    store,
    logger: createLogger('test', 'silent'),
    subject: undefined,
    initial: { seq: 0, names: {}, versions: {} },
    decode: (e: StoredEvent) => registry.decode(e),
    evolve: (s, e) => {
      s.seq = e.seq;
      (s.names[e.aggregate.id] ??= []).push(e.data.name);
      s.versions[e.aggregate.id] = e.seq;
    },
  });
  await projection.start();
  const executor = new Executor<State, NewX>({ store, projection, context: 'x', encode: (type, data) => registry.encode(type, data) });
  const seen: Array<{ command: unknown; ctx: { caller: Caller; prefix: string } }> = [];
  const handlers = commandHandlers<typeof contract, State, NewX, { caller: Caller; prefix: string }>(contract, {
    executor,
    projection,
    deciders: {
      'thing.name': (s, command, c) => {
        seen.push({ command, ctx: c });
        return name(s, command.id, `${c.prefix}${command.name}`);
      },
      'thing.remove': (s, command) => name(s, command.id, 'closing'),
    },
    context: (caller) => ({ caller, prefix: 'p-' }),
    answers: {
      'thing.name': (s, _c, id) => ({ id, names: s.names[id] ?? [] }),
      'thing.remove': (_s, _c, id) => ({ id }),
    },
    twoStep: { 'thing.remove': { first: 'close', second: 'delete', decide: (s, id) => name(s, id, 'gone') } },
  });
  const events = async (): Promise<StoredEvent[]> => {
    const out: StoredEvent[] = [];
    for await (const e of store.read({})) out.push(e);
    return out;
  };
  return { store, projection, handlers, seen, events };
}

describe('commandHandlers', () => {
  it('makes one handler per command of the contract, with its request schema', async () => {
    const { handlers, projection } = await setup();
    expect(Object.keys(handlers).sort()).toEqual(['thing.name', 'thing.remove']);
    expect(handlers['thing.name']!.schema).toBe(contract.commands['thing.name'].request);
    await projection.stop();
  });

  it('decides with the parsed command and the context of the caller, and answers from the state that includes its write', async () => {
    const { handlers, seen, projection } = await setup();
    const body = contract.commands['thing.name'].request.parse({ id: 'a' });
    const reply = await handlers['thing.name']!.handle(body, meta('r1'), ctx);
    expect(reply).toEqual({ result: { id: 'a', names: ['p-unnamed'] }, seq: 1 });
    // The executor decides more than once (before and after taking the aggregate's lane): each time alike.
    expect(seen.length).toBeGreaterThan(0);
    for (const decided of seen) {
      expect(decided).toEqual({ command: { id: 'a', name: 'unnamed' }, ctx: { caller: expect.objectContaining({ actor: 'alice', requestId: 'r1' }), prefix: 'p-' } });
    }
    await projection.stop();
  });

  it('is idempotent per request: a retry answers from the first write and writes nothing', async () => {
    const { handlers, events, projection } = await setup();
    const body = { id: 'a', name: 'x' };
    const first = await handlers['thing.name']!.handle(body, meta('r1'), ctx);
    const retry = await handlers['thing.name']!.handle(body, meta('r1'), ctx);
    expect(retry.seq).toBe(first.seq);
    expect(await events()).toHaveLength(1);
    await projection.stop();
  });

  it('runs a two-step command as two request steps, and answers after the second', async () => {
    const { handlers, events, projection } = await setup();
    const reply = await handlers['thing.remove']!.handle({ id: 'a' }, meta('r2'), ctx);
    expect(reply).toEqual({ result: { id: 'a' }, seq: 2 });
    const written = await events();
    expect(written.map((e) => (e.data as { name: string }).name)).toEqual(['closing', 'gone']);
    expect(new Set(written.map((e) => e.id)).size).toBe(2);
    await projection.stop();
  });
});
