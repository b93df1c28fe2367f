import { describe, expect, it } from 'vitest';
import { Replica } from '../ovsdb/replica.js';
import { VTEP_MONITORED } from '../ovsdb/session.js';
import { vtepView } from '../ovsdb/vtep-view.js';
import type { DesiredDevice } from './desired.js';
import { observeDevice, recordObserved, type Observed } from './learned.js';
import { initialState, type VtepState } from './state.js';

const desired = (ls: Record<string, number>): DesiredDevice => ({ logicalSwitches: new Map(Object.entries(ls)), bindings: new Map(), ucast: new Map(), flood: new Map() });
const mac = (m: string, vtep: string, ip?: string) => ({ deviceId: 'd1', vni: 100, mac: m, vtep, ...(ip ? { ip } : {}) });
const observed = (macs: ReturnType<typeof mac>[], vteps: string[] = []): Observed => ({
  macs: new Map(macs.map((m) => [`100|${m.mac}`, m])),
  vteps: new Map(vteps.map((v) => [`100|${v}`, { deviceId: 'd1', vni: 100, vtep: v }])),
  ignored: 0,
});
const withLearned = (...macs: ReturnType<typeof mac>[]): VtepState => {
  const s = initialState();
  s.macs.d1 = Object.fromEntries(macs.map((m) => [`100|${m.mac}`, m]));
  s.versions.d1 = 7;
  return s;
};

describe('observeDevice', () => {
  it('reads local MACs and unknown-dst locators on the device\u2019s bound switches, and counts the rest as ignored', () => {
    const r = new Replica(Object.keys(VTEP_MONITORED));
    r.apply({
      Logical_Switch: { ls1: { new: { name: 'strata-n1', tunnel_key: 100 } }, ls2: { new: { name: 'other', tunnel_key: 5 } } },
      Physical_Locator: { l1: { new: { encapsulation_type: 'vxlan_over_ipv4', dst_ip: '198.18.0.40' } } },
      Physical_Locator_Set: { s1: { new: { locators: ['uuid', 'l1'] } } },
      Ucast_Macs_Local: {
        u1: { new: { MAC: '02:00:00:00:0B:01', logical_switch: ['uuid', 'ls1'], locator: ['uuid', 'l1'], ipaddr: '10.1.0.9' } },
        u2: { new: { MAC: '02:00:00:00:0b:02', logical_switch: ['uuid', 'ls2'], locator: ['uuid', 'l1'], ipaddr: '' } },
      },
      Mcast_Macs_Local: { m1: { new: { MAC: 'unknown-dst', logical_switch: ['uuid', 'ls1'], locator_set: ['uuid', 's1'] } } },
    });
    const o = observeDevice(vtepView(r), desired({ 'strata-n1': 100 }), 'd1', new Set(['198.18.0.40']));
    expect([...o.macs.values()]).toEqual([mac('02:00:00:00:0b:01', '198.18.0.40', '10.1.0.9')]);
    expect([...o.vteps.values()]).toEqual([{ deviceId: 'd1', vni: 100, vtep: '198.18.0.40' }]);
    expect(o.ignored).toBe(1);
    // Behind another switch of the same database: that device's to report.
    const other = observeDevice(vtepView(r), desired({ 'strata-n1': 100 }), 'd1', new Set(['198.18.0.41']));
    expect([other.macs.size, other.vteps.size]).toEqual([0, 0]);
  });
});

describe('recordObserved', () => {
  it('learns what is new, one event at a time, against the device aggregate\u2019s version', () => {
    const d = recordObserved(withLearned(), 'd1', observed([mac('02:00:00:00:00:02', 'v'), mac('02:00:00:00:00:01', 'v')], ['v']));
    expect(d).toMatchObject({ kind: 'append', aggregate: { context: 'vtep', type: 'device', id: 'd1' }, expectedVersion: 7, event: { type: 'vtep.PhysicalMacLearned', data: mac('02:00:00:00:00:01', 'v') } });
  });

  it('withdraws a MAC that moved to another VTEP or IP before learning it again', () => {
    const s = withLearned(mac('02:00:00:00:00:01', 'v1'));
    expect(recordObserved(s, 'd1', observed([mac('02:00:00:00:00:01', 'v2')]))).toMatchObject({ event: { type: 'vtep.PhysicalMacWithdrawn', data: mac('02:00:00:00:00:01', 'v1') } });
    expect(recordObserved(s, 'd1', observed([mac('02:00:00:00:00:01', 'v1', '10.0.0.1')]))).toMatchObject({ event: { type: 'vtep.PhysicalMacWithdrawn' } });
  });

  it('is done when the log matches, and withdraws everything of a device that is gone', () => {
    const s = withLearned(mac('02:00:00:00:00:01', 'v1'));
    expect(recordObserved(s, 'd1', observed([mac('02:00:00:00:00:01', 'v1')]))).toEqual({ kind: 'done', resourceId: 'd1' });
    expect(recordObserved(s, 'd1', null)).toMatchObject({ event: { type: 'vtep.PhysicalMacWithdrawn' } });
    expect(recordObserved(initialState(), 'd1', null)).toEqual({ kind: 'done', resourceId: 'd1' });
  });
});
