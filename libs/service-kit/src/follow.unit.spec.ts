import { describe, expect, it } from 'vitest';
import { IPAM_CONTEXT, IPAM_PORT_EVENT_TYPES, ipamEvents, SECGROUP_CONTEXT, secgroupEvents } from '@strata/contracts';
import { isEventSchemaError, type StoredEvent } from '@strata/eventlog';
import { allEvents, eventTypes, follow, ownEvents } from './follow.js';

let seq = 0;
const stored = (context: string, aggregateType: string, type: string, data: unknown): StoredEvent => ({
  id: `e${++seq}`,
  seq,
  type,
  version: 1,
  aggregate: { context, type: aggregateType, id: 'a1' },
  data,
  tenant: 't1',
  actor: 'x',
  correlationId: 'c',
  causationId: null,
  occurredAt: '2026-01-01T00:00:00.000Z',
  subject: `strata.evt.${context}.${aggregateType}.a1`,
  storedAt: '2026-01-01T00:00:00.000Z',
});

const follows = follow(ownEvents(SECGROUP_CONTEXT, secgroupEvents), eventTypes(IPAM_CONTEXT, ipamEvents, IPAM_PORT_EVENT_TYPES));

function run(events: StoredEvent[]) {
  const seen: string[] = [];
  const fold = follows.fold((state: { seq: number }, event) => {
    // The fold hands over decoded events with their sequence already set.
    expect(state.seq).toBe(event.seq);
    seen.push(`${event.type}@${event.seq}`);
    return state;
  });
  const state = { seq: 0 };
  for (const e of events) fold(state, e);
  return { seen, state };
}

describe('follow: my events plus these types of other contexts', () => {
  it('given own events, followed types of another context and everything else, then only the first two are decoded and folded; the rest only move the sequence', () => {
    const own = stored(SECGROUP_CONTEXT, 'group', 'secgroup.GroupDeleted', { groupId: 'g1' });
    const port = stored(IPAM_CONTEXT, 'network', 'ipam.PortBound', { portId: 'p1', hostId: null, previousHostId: null });
    const unfollowed = stored(IPAM_CONTEXT, 'router', 'ipam.RouterDeleted', { routerId: 'r1' });
    const newer = stored(IPAM_CONTEXT, 'network', 'ipam.PortRenamed', { anything: true });
    const elsewhere = stored('nat', 'router', 'nat.ExternalGatewayEnabled', null);
    const { seen, state } = run([own, port, unfollowed, newer, elsewhere]);
    expect(seen).toEqual([`secgroup.GroupDeleted@${own.seq}`, `ipam.PortBound@${port.seq}`]);
    expect(state.seq).toBe(elsewhere.seq);
    expect([own, port, unfollowed, newer, elsewhere].map((e) => follows.isRelevant(e))).toEqual([true, true, false, false, false]);
  });

  it('given a followed event its registry cannot read, then a schema error and the state as it was (the projection quarantines it)', () => {
    const bad = stored(IPAM_CONTEXT, 'network', 'ipam.PortDeleted', { portId: 42 });
    const state = { seq: 3 };
    let thrown: unknown;
    try {
      follows.fold((s: { seq: number }) => s)(state, bad);
    } catch (err) {
      thrown = err;
    }
    expect(isEventSchemaError(thrown)).toBe(true);
    expect(state.seq).toBe(3);
  });

  it('decodes for a reader with its own loop (hostview): a followed event decoded, anything else undefined', () => {
    const port = stored(IPAM_CONTEXT, 'network', 'ipam.PortDeleted', { portId: 'p1', releasedIps: [] });
    const router = stored(IPAM_CONTEXT, 'router', 'ipam.RouterDeleted', { routerId: 'r1' });
    expect(follows.decode(port)).toMatchObject({ type: 'ipam.PortDeleted', data: { portId: 'p1' } });
    expect(follows.decode(router)).toBeUndefined();
    const everything = follow(allEvents(IPAM_CONTEXT, ipamEvents));
    expect(everything.decode(router)).toMatchObject({ type: 'ipam.RouterDeleted' });
    expect(() => everything.decode(stored(IPAM_CONTEXT, 'network', 'ipam.PortRenamed', {}))).toThrow(/unknown event type/);
  });

  it('reads one context through its own filter, several unfiltered (eventlog feedFilter)', () => {
    expect(follow(ownEvents(SECGROUP_CONTEXT, secgroupEvents)).subject).toBe('strata.evt.secgroup.>');
    expect(follows.subject).toBeUndefined();
  });

  it('refuses a context named twice (which input would decode it?)', () => {
    expect(() => follow(ownEvents(IPAM_CONTEXT, ipamEvents), eventTypes(IPAM_CONTEXT, ipamEvents, IPAM_PORT_EVENT_TYPES))).toThrow(/ipam is followed twice/);
  });
});
