import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ErrorCode, StrataError } from '@strata/errors';
import { buildRequestMeta, incomingTrace } from './context.js';

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

  it('carries the reason (x-reason) as given; none when absent', () => {
    expect(buildRequestMeta(md({ 'x-reason': 'CHG-1042: open 443 for the web tier' }), alice, { now }).reason).toBe('CHG-1042: open 443 for the web tier');
    expect(buildRequestMeta(md({}), alice, { now })).not.toHaveProperty('reason');
  });

  // Control and non-ASCII characters never arrive: gRPC's text metadata refuses them before the API sees them.
  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['over 512 characters', 'x'.repeat(513)],
  ])('rejects a reason that is %s, naming the metadata key', (_what, reason) => {
    expect(() => buildRequestMeta(md({ 'x-reason': reason }), alice, { now })).toThrow(/metadata x-reason must be 1-512 printable ASCII characters/);
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
