import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { ErrorCode, NotFoundError, StrataError } from '@strata/errors';
import { startStrataNats, type StrataNats } from '@strata/testing';
import type { NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { installContextManager } from './context-manager.js';
import { createLogger } from './logger.js';
import { encodeJson, decodeJson, type RequestMeta } from './messaging.js';
import { createMetrics } from './metrics.js';
import { NatsRequester } from './requester.js';
import { CommandSigner, CommandVerifier, generateCommandKeys, parseVerifyKeys, SIGNATURE_LIFETIME_MS } from './command-auth.js';
import { handler, serve, type Handler, type ServeHandle } from './serve.js';
import { extractTrace, injectTrace, traceIdOf } from './tracing.js';

const PREFIX = 'strata.cmd.ipam';
const keys = generateCommandKeys();
const signer = new CommandSigner(keys.signingKey);
const refusals = createMetrics('ipam', { defaultMetrics: false });
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

function meta(overrides: Partial<RequestMeta> = {}): RequestMeta {
  return {
    actor: 'alice',
    tenant: 't1',
    admin: false,
    requestId: 'req-1',
    correlationId: 'corr-1',
    at: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function logSink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

async function rejection(p: Promise<unknown>): Promise<StrataError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StrataError);
  return err as StrataError;
}

// Production users (infra/nats/render-accounts.mjs): IPAM serves its commands as ipam, the api requests as api.
describe('NATS request/reply', () => {
  let nats: StrataNats;
  let serverNc: NatsConnection;
  let clientNc: NatsConnection;
  let requester: NatsRequester;
  const handles: ServeHandle[] = [];
  const logs = logSink();
  const logger = createLogger('ipam', 'debug', logs.stream);

  const networkCreate = handler(
    z.object({
      name: z.string().min(1),
      cidr: z.string().regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, 'must be an IPv4 CIDR'),
      fixedIps: z.array(z.object({ ip: z.string().min(7) })).default([]),
    }),
    async (body, m) => ({ result: { id: `net-${body.name}`, tenant: m.tenant, fixedIps: body.fixedIps }, seq: 7 }),
  );

  async function start(handlers: Record<string, Handler>, nc = serverNc): Promise<ServeHandle> {
    const h = await serve(nc, { subjectPrefix: PREFIX, queue: 'ipam', logger, metrics: refusals, verifier: new CommandVerifier('ipam', parseVerifyKeys(keys.verifyKey)), handlers });
    handles.push(h);
    return h;
  }

  beforeAll(async () => {
    nats = await startStrataNats();
    serverNc = await nats.connect('ipam');
    clientNc = await nats.connect('api');
    requester = new NatsRequester(clientNc, { signer });
  }, 30_000);

  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.drain()));
  });

  afterAll(async () => {
    await nats?.stop();
  });

  it('round-trips a request: parsed body in, result and seq out', async () => {
    await start({ 'network.create': networkCreate });
    const reply = await requester.request(`${PREFIX}.network.create`, { name: 'blue', cidr: '10.0.0.0/24' }, meta());
    expect(reply).toEqual({ result: { id: 'net-blue', tenant: 't1', fixedIps: [] }, seq: 7 });
  });

  it('routes ops containing dots and passes meta through', async () => {
    const seen: RequestMeta[] = [];
    await start({
      'port.create': handler(z.object({}), async (_body, m) => (seen.push(m), { result: 'port' })),
      port: handler(z.object({}), async () => ({ result: 'wrong' })),
    });
    const m = meta({ admin: true, minSeq: 12 });
    const reply = await requester.request<string>(`${PREFIX}.port.create`, {}, m);
    expect(reply).toEqual({ result: 'port' });
    expect(seen).toEqual([m]);
  });

  it('rejects an invalid body with a ValidationError naming the field', async () => {
    await start({ 'network.create': networkCreate });
    const err = await rejection(requester.request(`${PREFIX}.network.create`, { name: 'blue', cidr: 'nope' }, meta()));
    expect(err.code).toBe(ErrorCode.InvalidArgument);
    expect(err.message).toBe('invalid request: cidr: must be an IPv4 CIDR');
    expect(err.details['field']).toBe('cidr');
  });

  it('names nested fields by their dotted path', async () => {
    await start({ 'network.create': networkCreate });
    const body = { name: 'blue', cidr: '10.0.0.0/24', fixedIps: [{ ip: '10.0.0.5' }, { ip: 'x' }] };
    const err = await rejection(requester.request(`${PREFIX}.network.create`, body, meta()));
    expect(err.message).toMatch(/^invalid request: fixedIps\.1\.ip: /);
    expect(err.details['field']).toBe('fixedIps.1.ip');
  });

  it('rejects an envelope with invalid meta, naming the field', async () => {
    await start({ 'network.create': networkCreate });
    const bad = { ...meta(), tenant: '' };
    const err = await rejection(requester.request(`${PREFIX}.network.create`, { name: 'b', cidr: '1.2.3.4/32' }, bad));
    expect(err.code).toBe(ErrorCode.InvalidArgument);
    expect(err.message).toMatch(/^invalid request envelope: meta\.tenant: /);
  });

  it('rejects a payload that is not JSON', async () => {
    await start({ 'network.create': networkCreate });
    const data = new TextEncoder().encode('{nope');
    const msg = await clientNc.request(`${PREFIX}.network.create`, data, { headers: signer.headers(`${PREFIX}.network.create`, data) });
    expect(decodeJson(msg.data)).toEqual({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: 'invalid request: payload is not JSON', details: {} },
    });
  });

  it('answers an unknown operation with INVALID_ARGUMENT', async () => {
    await start({ 'network.create': networkCreate });
    const err = await rejection(requester.request(`${PREFIX}.network.explode`, {}, meta()));
    expect(err.code).toBe(ErrorCode.InvalidArgument);
    expect(err.message).toBe('unknown operation network.explode');
  });

  it('maps a StrataError thrown by the handler to its code and message', async () => {
    await start({
      'network.get': handler(z.object({ id: z.string() }), async ({ id }) => {
        throw new NotFoundError('network', id);
      }),
    });
    const err = await rejection(requester.request(`${PREFIX}.network.get`, { id: 'n9' }, meta()));
    expect(err.code).toBe(ErrorCode.NotFound);
    expect(err.message).toBe('network n9 not found');
    expect(err.details).toEqual({ kind: 'network', id: 'n9' });
  });

  it('answers a plain Error as INTERNAL without leaking it, and logs it with its stack', async () => {
    await start({
      'network.get': handler(z.object({}), async () => {
        throw new Error('db password is hunter2');
      }),
    });
    const err = await rejection(requester.request(`${PREFIX}.network.get`, {}, meta({ correlationId: 'corr-leak' })));
    expect(err.code).toBe(ErrorCode.Internal);
    expect(err.message).toBe('internal error');
    expect(JSON.stringify(err.details)).not.toContain('hunter2');
    const line = logs.text().split('\n').find((l) => l.includes('hunter2'));
    expect(line).toBeDefined();
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      correlationId: 'corr-leak',
      err: { message: 'db password is hunter2', stack: expect.stringContaining('Error: db password is hunter2') },
    });
  });

  it('maps no responders to UNAVAILABLE', async () => {
    const err = await rejection(requester.request('strata.cmd.secgroup.rule.create', {}, meta()));
    expect(err.code).toBe(ErrorCode.Unavailable);
    expect(err.message).toBe(
      'service secgroup unavailable: no responders on strata.cmd.secgroup.rule.create',
    );
  });

  it('maps a request timeout to DEADLINE_EXCEEDED', async () => {
    const release = deferred();
    await start({ slow: handler(z.object({}), async () => (await release.promise, { result: null })) });
    const err = await rejection(requester.request(`${PREFIX}.slow`, {}, meta(), { timeoutMs: 100 }));
    release.resolve();
    expect(err.code).toBe(ErrorCode.DeadlineExceeded);
    expect(err.message).toBe(`request to ${PREFIX}.slow timed out after 100ms`);
  });

  it('runs handlers concurrently', async () => {
    const secondArrived = deferred();
    await start({
      first: handler(z.object({}), async () => (await secondArrived.promise, { result: 1 })),
      second: handler(z.object({}), async () => (secondArrived.resolve(), { result: 2 })),
    });
    // If requests were handled one at a time, `first` would wait forever for `second`.
    const first = requester.request(`${PREFIX}.first`, {}, meta());
    const second = requester.request(`${PREFIX}.second`, {}, meta());
    await expect(Promise.all([first, second])).resolves.toEqual([{ result: 1 }, { result: 2 }]);
  });

  it('spreads requests across the instances of a queue group', async () => {
    const otherNc = await nats.connect('ipam');
    try {
      const whoami = (id: string) => ({ whoami: handler(z.object({}), async () => ({ result: id })) });
      await start(whoami('a'));
      await start(whoami('b'), otherNc);
      const replies = await Promise.all(
        Array.from({ length: 60 }, (_, i) => requester.request<string>(`${PREFIX}.whoami`, {}, meta({ requestId: `r${i}` }))),
      );
      const answeredBy = new Set(replies.map((r) => r.result));
      // Each request goes to exactly one member; 60 all landing on one of two has probability 2^-59.
      expect(answeredBy).toEqual(new Set(['a', 'b']));
    } finally {
      await Promise.all(handles.splice(0).map((h) => h.drain()));
      await otherNc.close();
    }
  });

  it('drain lets in-flight requests reply, then stops answering', async () => {
    const release = deferred();
    const entered = deferred();
    const h = await serve(serverNc, {
      subjectPrefix: PREFIX,
      queue: 'ipam',
      logger,
      verifier: new CommandVerifier('ipam', parseVerifyKeys(keys.verifyKey)),
      handlers: { slow: handler(z.object({}), async () => (entered.resolve(), await release.promise, { result: 'done' })) },
    });
    const inFlight = requester.request(`${PREFIX}.slow`, {}, meta());
    await entered.promise;
    const drained = h.drain();
    release.resolve();
    await expect(inFlight).resolves.toEqual({ result: 'done' });
    await drained;
    expect((await rejection(requester.request(`${PREFIX}.slow`, {}, meta()))).code).toBe(ErrorCode.Unavailable);
  });

  it('counts requests by op and code and times them by op', async () => {
    const metrics = createMetrics('ipam', { defaultMetrics: false });
    handles.push(
      await serve(serverNc, { subjectPrefix: PREFIX, queue: 'ipam', logger, metrics, verifier: new CommandVerifier('ipam', parseVerifyKeys(keys.verifyKey)), handlers: { 'network.create': networkCreate } }),
    );
    await requester.request(`${PREFIX}.network.create`, { name: 'a', cidr: '10.0.0.0/8' }, meta());
    await rejection(requester.request(`${PREFIX}.network.create`, { name: 'a', cidr: 'x' }, meta()));
    await rejection(requester.request(`${PREFIX}.whatever`, {}, meta()));
    const text = await metrics.registry.metrics();
    expect(text).toContain('strata_rpc_requests_total{op="network.create",code="OK",service="ipam"} 1');
    expect(text).toContain('strata_rpc_requests_total{op="network.create",code="INVALID_ARGUMENT",service="ipam"} 1');
    expect(text).toContain('strata_rpc_requests_total{op="_unknown",code="INVALID_ARGUMENT",service="ipam"} 1');
    expect(text).toContain('strata_rpc_duration_seconds_count{service="ipam",op="network.create"} 2');
  });

  describe('trace propagation', () => {
    const traceHandler = handler(z.object({}), async (_body, m, ctx) => ({
      result: { meta: m.trace ?? null, ctx: ctx.trace ?? null, active: injectTrace() ?? null },
    }));
    type Seen = { meta: unknown; ctx: { traceparent: string } | null; active: { traceparent: string } | null };

    it('carries an explicit meta.trace to the handler and its span context', async () => {
      await start({ trace: traceHandler });
      const { result } = await requester.request<Seen>(`${PREFIX}.trace`, {}, meta({ trace: { traceparent: TRACEPARENT } }));
      expect(result.meta).toEqual({ traceparent: TRACEPARENT });
      expect(traceIdOf(result.ctx ?? undefined)).toBe(TRACE_ID);
    });

    it('injects the active trace on the requester side and activates it in the handler', async () => {
      installContextManager();
      try {
        await start({ trace: traceHandler });
        const { result } = await context.with(extractTrace({ traceparent: TRACEPARENT }), () =>
          requester.request<Seen>(`${PREFIX}.trace`, {}, meta()),
        );
        expect(result.meta).toEqual({ traceparent: TRACEPARENT });
        expect(traceIdOf(result.ctx ?? undefined)).toBe(TRACE_ID);
        expect(traceIdOf(result.active ?? undefined)).toBe(TRACE_ID);
        expect(trace.getSpanContext(context.active())).toBeUndefined();
      } finally {
        context.disable();
      }
    });

    it('ignores a malformed traceparent instead of failing the request', async () => {
      await start({ trace: traceHandler });
      const { result } = await requester.request<Seen>(`${PREFIX}.trace`, {}, meta({ trace: { traceparent: 'garbage' } }));
      expect(result.ctx).toBeNull();
    });
  });

  it('replies INTERNAL when the result cannot be serialized', async () => {
    await start({ big: handler(z.object({}), async () => ({ result: { n: 1n } })) });
    const err = await rejection(requester.request(`${PREFIX}.big`, {}, meta()));
    expect(err.code).toBe(ErrorCode.Internal);
  });

  it('uses the raw wire format documented in ReplyEnvelope', async () => {
    await start({ 'network.create': networkCreate });
    const data = encodeJson({ meta: meta(), body: { name: 'x', cidr: '10.1.0.0/16' } });
    const msg = await clientNc.request(`${PREFIX}.network.create`, data, { headers: signer.headers(`${PREFIX}.network.create`, data) });
    expect(decodeJson(msg.data)).toEqual({ ok: true, result: { id: 'net-x', tenant: 't1', fixedIps: [] }, seq: 7 });
  });

  describe('authenticated requests', () => {
    const subject = `${PREFIX}.network.create`;
    const body = { name: 'x', cidr: '10.1.0.0/16' };
    let calls = 0;
    const counting = handler(z.object({}).passthrough(), async () => (calls++, { result: 'ran' }));

    async function send(data: Uint8Array, hdrs?: ReturnType<CommandSigner['headers']>): Promise<unknown> {
      const msg = await clientNc.request(subject, data, hdrs ? { headers: hdrs } : {});
      return decodeJson(msg.data);
    }
    const refused = (message: string) => ({ ok: false, error: { code: 'UNAUTHENTICATED', message, details: {} } });

    it('refuses, unread, a request that is unsigned, signed by an unknown key, tampered with, for another subject, or expired', async () => {
      await start({ 'network.create': counting });
      calls = 0;
      const data = encodeJson({ meta: meta({ admin: true }), body });
      expect(await send(data)).toEqual(refused('request is not signed'));
      const stranger = new CommandSigner(generateCommandKeys().signingKey);
      expect(await send(data, stranger.headers(subject, data))).toEqual(refused(`request is signed with unknown key ${stranger.keyIdFor('ipam')}`));
      // Signed as tenant t1, admin false; the same signature on an admin envelope:
      const honest = encodeJson({ meta: meta(), body });
      expect(await send(data, signer.headers(subject, honest))).toEqual(refused('request signature does not verify'));
      expect(await send(honest, signer.headers(`${PREFIX}.network.delete`, honest))).toEqual(refused('request signature does not verify'));
      const old = new CommandSigner(keys.signingKey, () => Date.now() - SIGNATURE_LIFETIME_MS - 10_000);
      expect(await send(honest, old.headers(subject, honest))).toEqual(refused('request signature has expired'));
      expect(calls).toBe(0);
      const text = await refusals.registry.getSingleMetricAsString('strata_rpc_refused_total');
      for (const reason of ['unsigned', 'unknown_key', 'bad_signature', 'expired']) expect(text).toMatch(new RegExp(`reason="${reason}"`));
      // And the honest one runs.
      expect(await send(honest, signer.headers(subject, honest))).toEqual({ ok: true, result: 'ran' });
      expect(calls).toBe(1);
    });
  });
});
