import { describe, expect, it } from 'vitest';
import { hostviewKey } from '@strata/contracts';
import { HostViewStore, InvalidEntryError } from './store.js';

const put = (key: string, value: unknown, revision: number) => ({ key, operation: 'PUT' as const, revision, value: JSON.stringify(value) });
const del = (key: string, revision: number) => ({ key, operation: 'DEL' as const, revision, value: '' });
const domain = { id: 'r1', tenant: 't', kind: 'router', networkIds: ['n1'] };

describe('HostViewStore', () => {
  it('given entries of the host view, then a snapshot by kind and the highest revision', () => {
    const s = new HostViewStore('hv1');
    s.apply(put(hostviewKey.host('hv1'), { id: 'hv1', vtepIp: '198.18.0.11', publicIp: '203.0.113.1' }, 1));
    s.apply(put(hostviewKey.domain('hv1', 'r1'), domain, 2));
    s.apply(put(hostviewKey.ep('hv1', 'e1'), { id: 'e1', networkId: 'n1', mac: '02:00:00:00:00:01', ips: ['10.0.0.2'], vtep: '198.18.0.12' }, 3));
    const snap = s.snapshot();
    expect(snap.host?.vtepIp).toBe('198.18.0.11');
    expect(Object.keys(snap.domains)).toEqual(['r1']);
    expect(Object.keys(snap.endpoints)).toEqual(['e1']);
    expect(s.revision).toBe(3);

    s.apply(del(hostviewKey.ep('hv1', 'e1'), 4));
    expect(s.snapshot().endpoints).toEqual({});
    // An earlier snapshot is not changed by later entries.
    expect(Object.keys(snap.endpoints)).toEqual(['e1']);
  });

  it('is the control plane\'s word only with its position, or when emptied with the position deleted (fail static)', () => {
    const s = new HostViewStore('hv1');
    expect(s.authoritative).toBe(false); // a bucket that holds nothing
    s.apply(put(hostviewKey.host('hv1'), { id: 'hv1', vtepIp: '198.18.0.11', publicIp: '203.0.113.1' }, 1));
    s.apply(put(hostviewKey.domain('hv1', 'r1'), domain, 2));
    expect(s.authoritative).toBe(false); // keys without their position: being written
    s.apply(put(hostviewKey.position('hv1'), { seq: 7 }, 3));
    expect(s.authoritative).toBe(true);
    // hostview empties a deregistered host: its keys, then its position.
    s.apply(del(hostviewKey.domain('hv1', 'r1'), 4));
    s.apply(del(hostviewKey.host('hv1'), 5));
    expect(s.authoritative).toBe(true);
    s.apply(del(hostviewKey.position('hv1'), 6));
    expect(s.authoritative).toBe(true);
    // Written again (re-registered): keys without a position are not a view until the position follows.
    s.apply(put(hostviewKey.domain('hv1', 'r1'), domain, 7));
    expect(s.authoritative).toBe(false);
    s.apply(put(hostviewKey.position('hv1'), { seq: 9 }, 8));
    expect(s.authoritative).toBe(true);
  });

  it('given an invalid value, then it throws and keeps the previous value', () => {
    const s = new HostViewStore('hv1');
    s.apply(put(hostviewKey.domain('hv1', 'r1'), domain, 1));
    expect(() => s.apply(put(hostviewKey.domain('hv1', 'r1'), { id: 'r1' }, 2))).toThrow(InvalidEntryError);
    expect(() => s.apply({ key: 'hv1.domain.r1', operation: 'PUT', revision: 3, value: '{not json' })).toThrow(InvalidEntryError);
    expect(() => s.apply(put('hv1.widget.x', {}, 4))).toThrow(InvalidEntryError);
    expect(() => s.apply(put('hv2.domain.r1', domain, 5))).toThrow(InvalidEntryError);
    expect(s.snapshot().domains.r1).toEqual(domain);
  });

  it('given security-group keys, then groups by id and members by <groupId>.<portId>', () => {
    const s = new HostViewStore('hv1');
    const rule = { id: 'r1', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 443, portMax: 443, icmpType: null, icmpCode: null, remoteGroupId: 'g2', remoteCidr: null };
    s.apply(put(hostviewKey.sg('hv1', 'g1'), { id: 'g1', tenant: 't', rules: [rule] }, 1));
    s.apply(put(hostviewKey.member('hv1', 'g2', 'p9'), { groupId: 'g2', portId: 'p9', ips: ['10.0.0.9'] }, 2));
    s.apply(put(hostviewKey.port('hv1', 'p1'), { id: 'p1', tenant: 't', networkId: 'n1', mac: '02:00:00:00:00:01', fixedIps: [], device: 'tap1' }, 3));
    const snap = s.snapshot();
    expect(snap.groups.g1!.rules).toEqual([rule]);
    expect(snap.members).toEqual({ 'g2.p9': { groupId: 'g2', portId: 'p9', ips: ['10.0.0.9'] } });
    // A port written without the security-group fields: groups not known (kept unplugged), port security on.
    expect(snap.ports.p1).toMatchObject({ groupIds: null, portSecurity: true });
    s.apply(del(hostviewKey.member('hv1', 'g2', 'p9'), 4));
    expect(s.snapshot().members).toEqual({});
  });
});

describe('HostViewStore journal and snapshots', () => {
  const member = (p: string, ip: string) => ({ key: `hv1.member.g1.${p}`, operation: 'PUT' as const, revision: 1, value: JSON.stringify({ groupId: 'g1', portId: p, ips: [ip] }) });

  it('journals every change in order and forgets what was trimmed', () => {
    const s = new HostViewStore('hv1');
    s.apply(member('p1', '10.0.0.1'));
    const mark = s.position;
    s.apply(member('p1', '10.0.0.2'));
    s.apply({ key: 'hv1.member.g1.p1', operation: 'DEL', revision: 3, value: '' });
    const changes = s.changesSince(mark)!;
    expect(changes.map((c) => [c.field, c.id, (c.before as { ips: string[] } | undefined)?.ips, (c.after as { ips: string[] } | undefined)?.ips])).toEqual([
      ['members', 'g1.p1', ['10.0.0.1'], ['10.0.0.2']],
      ['members', 'g1.p1', ['10.0.0.2'], undefined],
    ]);
    s.trim(mark + 1);
    expect(s.changesSince(mark)).toBeNull();
    expect(s.changesSince(mark + 1)).toHaveLength(1);
  });

  it('shares unchanged collections between snapshots; earlier snapshots never change', () => {
    const s = new HostViewStore('hv1');
    s.apply(member('p1', '10.0.0.1'));
    const a = s.snapshot();
    const b = s.snapshot();
    expect(b.members).toBe(a.members);
    s.apply(member('p2', '10.0.0.2'));
    const c = s.snapshot();
    expect(c.members).not.toBe(a.members);
    expect(Object.keys(a.members)).toEqual(['g1.p1']);
    expect(Object.keys(c.members).sort()).toEqual(['g1.p1', 'g1.p2']);
    expect(c.ports).toBe(a.ports);
  });
});

describe('HostViewStore position', () => {
  it("holds the view's position (`<h>.position.view`), journals its changes, and refuses a bad value", () => {
    const s = new HostViewStore('hv1');
    expect(s.viewPosition).toBeNull();
    s.apply(put(hostviewKey.domain('hv1', 'r1'), domain, 1));
    const mark = s.position;
    s.apply(put(hostviewKey.position('hv1'), { seq: 41 }, 2));
    expect(s.viewPosition).toBe(41);
    s.apply(put(hostviewKey.position('hv1'), { seq: 57 }, 3));
    expect(s.changesSince(mark)).toEqual([
      { field: 'position', id: '', before: undefined, after: 41 },
      { field: 'position', id: '', before: 41, after: 57 },
    ]);
    expect(() => s.apply(put(hostviewKey.position('hv1'), { seq: -1 }, 4))).toThrow(InvalidEntryError);
    expect(() => s.apply(put('hv1.position.other', { seq: 1 }, 5))).toThrow(InvalidEntryError);
    expect(s.viewPosition).toBe(57);
    // Not an object of the snapshot.
    expect(s.snapshot().domains).toEqual({ r1: domain });
    s.apply(del(hostviewKey.position('hv1'), 6));
    expect(s.viewPosition).toBeNull();
  });

  it('holds the trace context written with the position, and forgets it with a position that has none', () => {
    const s = new HostViewStore('hv1');
    const trace = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
    s.apply(put(hostviewKey.position('hv1'), { seq: 41, trace }, 1));
    expect([s.viewPosition, s.viewTrace]).toEqual([41, trace]);
    s.apply(put(hostviewKey.position('hv1'), { seq: 42 }, 2));
    expect([s.viewPosition, s.viewTrace]).toEqual([42, undefined]);
    expect(() => s.apply(put(hostviewKey.position('hv1'), { seq: 43, trace: { traceparent: 7 } }, 3))).toThrow(InvalidEntryError);
  });
});
