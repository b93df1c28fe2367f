import { describe, expect, it } from 'vitest';
import { requestEventId, requestResourceId } from '@strata/eventlog';
import { ErrorCode, StrataError } from '@strata/errors';
import { appliedRequest, pendingRequest, recordRequest, REQUEST_RETENTION_MS, type RequestIndex } from './requests.js';

const alice = { tenant: 'tenant-a', requestId: '00000000-0000-4000-8000-000000000001' };
const HOUR = 3_600_000;
const at = (ms: number): string => new Date(Date.parse('2026-01-01T00:00:00.000Z') + ms).toISOString();

const entries = (index: RequestIndex): number => Object.keys(index.byKey).length;

/** The event the executor appends for `p`, as the projection sees it. */
function eventOf(p: ReturnType<typeof pendingRequest>, seq: number, storedAt: string, resourceId = 'r1', context = 'ipam') {
  return { id: requestEventId({ ...p, resourceId }), seq, storedAt, aggregate: { context, type: 'network', id: resourceId } };
}

describe('the request index', () => {
  it('given a request applied, a retry (same tenant, id, operation and body) finds its resource and sequence', () => {
    const index: RequestIndex = { byKey: {}, byHour: {} };
    const bind = pendingRequest('ipam', alice, 'port.bind', { id: 'p1', hostId: 'hv1' });
    recordRequest(index, 'ipam', eventOf(bind, 7, at(0), 'p1'));
    // Key order in the body does not matter: the fingerprint is of the canonical body.
    expect(appliedRequest(index, pendingRequest('ipam', alice, 'port.bind', { hostId: 'hv1', id: 'p1' }))).toMatchObject({ resourceId: 'p1', seq: 7 });
  });

  it('is scoped to the tenant and the context: the same request id of another tenant or service is another request', () => {
    const index: RequestIndex = { byKey: {}, byHour: {} };
    const body = { name: 'x' };
    recordRequest(index, 'ipam', eventOf(pendingRequest('ipam', alice, 'network.create', body), 1, at(0)));
    expect(appliedRequest(index, pendingRequest('ipam', { ...alice, tenant: 'tenant-b' }, 'network.create', body))).toBeUndefined();
    expect(appliedRequest(index, pendingRequest('secgroup', alice, 'network.create', body))).toBeUndefined();
    // Another context's events are not indexed here (secgroup's projection also reads IPAM's events).
    recordRequest(index, 'secgroup', eventOf(pendingRequest('ipam', alice, 'network.create', { name: 'y' }), 2, at(1)));
    expect(entries(index)).toBe(1);
  });

  it('refuses the same request id with another operation or body, naming the header', () => {
    const index: RequestIndex = { byKey: {}, byHour: {} };
    recordRequest(index, 'ipam', eventOf(pendingRequest('ipam', alice, 'port.bind', { id: 'p1', hostId: 'hv1' }), 1, at(0)));
    for (const [op, body] of [['port.bind', { id: 'p1', hostId: 'hv2' }], ['port.delete', { id: 'p1' }]] as const) {
      try {
        appliedRequest(index, pendingRequest('ipam', alice, op, body));
        throw new Error('expected a refusal');
      } catch (e) {
        expect(e).toBeInstanceOf(StrataError);
        expect((e as StrataError).code).toBe(ErrorCode.InvalidArgument);
        expect((e as StrataError).message).toMatch(/x-request-id .* was already used for a different request/);
      }
    }
  });

  it('keeps the steps of a multi-step command apart: a step not yet written is not answered', () => {
    const index: RequestIndex = { byKey: {}, byHour: {} };
    const close = pendingRequest('ipam', alice, 'network.delete', { id: 'n1' }, 'close');
    recordRequest(index, 'ipam', eventOf(close, 1, at(0), 'n1'));
    expect(appliedRequest(index, close)).toMatchObject({ seq: 1 });
    expect(appliedRequest(index, pendingRequest('ipam', alice, 'network.delete', { id: 'n1' }, 'delete'))).toBeUndefined();
  });

  it('keeps an entry for the retention of stream time (24 h and a margin, by the hour), then drops it', () => {
    const index: RequestIndex = { byKey: {}, byHour: {} };
    const first = pendingRequest('ipam', alice, 'network.create', { name: 'x' });
    recordRequest(index, 'ipam', eventOf(first, 1, at(30 * 60_000)));
    const other = (n: number) => pendingRequest('ipam', { ...alice, requestId: `r${n}` }, 'network.create', { name: 'x' });
    recordRequest(index, 'ipam', eventOf(other(2), 2, at(24 * HOUR + 30 * 60_000)));
    recordRequest(index, 'ipam', eventOf(other(3), 3, at(REQUEST_RETENTION_MS + 30 * 60_000)));
    expect(appliedRequest(index, first)).toBeDefined();
    // The first entry's hour ended 25 h before this event: its entries go.
    recordRequest(index, 'ipam', eventOf(other(4), 4, at(REQUEST_RETENTION_MS + HOUR)));
    expect(appliedRequest(index, first)).toBeUndefined();
    expect(entries(index)).toBe(3);
  });

  it('ignores events whose ids are not request event ids (older raw request ids, reactor ids)', () => {
    const index: RequestIndex = { byKey: {}, byHour: {} };
    recordRequest(index, 'ipam', { id: alice.requestId, seq: 1, storedAt: at(0), aggregate: { context: 'ipam', type: 'network', id: 'n' } });
    recordRequest(index, 'ipam', { id: 'ipam.X:network.n@3', seq: 2, storedAt: at(0), aggregate: { context: 'ipam', type: 'network', id: 'n' } });
    expect(entries(index)).toBe(0);
  });
});

describe('resource ids of requests', () => {
  it('are UUIDs derived from service, kind, tenant and request id, never the request id itself', () => {
    const id = requestResourceId('ipam', 'network', alice);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id).not.toBe(alice.requestId);
    expect(requestResourceId('ipam', 'network', alice)).toBe(id);
    const others = [
      requestResourceId('ipam', 'network', { ...alice, tenant: 'tenant-b' }),
      requestResourceId('ipam', 'subnet', alice),
      requestResourceId('secgroup', 'network', alice),
      requestResourceId('ipam', 'network', { tenant: 'tenant-b', requestId: id }),
    ];
    expect(new Set([id, ...others]).size).toBe(5);
  });
});
