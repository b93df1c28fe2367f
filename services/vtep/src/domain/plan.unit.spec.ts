import { describe, expect, it } from 'vitest';
import { Replica } from '../ovsdb/replica.js';
import { VTEP_MONITORED } from '../ovsdb/session.js';
import { vtepView } from '../ovsdb/vtep-view.js';
import { desiredDevice, desiredElsewhere } from './desired.js';
import { planDevice } from './plan.js';
import { initialState, type VtepState } from './state.js';

/** A switch `sw1` (tunnel IP 198.18.0.40) with port p1, bound on VLAN 99 to someone else's logical switch. */
function switchDb(): Replica {
  const r = new Replica(Object.keys(VTEP_MONITORED));
  r.apply({
    Physical_Switch: { s: { new: { name: 'sw1', ports: ['uuid', 'p1'], tunnel_ips: '198.18.0.40' } } },
    Physical_Port: { p1: { new: { name: 'p1', vlan_bindings: ['map', [[99, ['uuid', 'other']]]] } } },
    Logical_Switch: { other: { new: { name: 'other', tunnel_key: 7 } } },
  });
  return r;
}

function bound(): VtepState {
  const s = initialState();
  s.devices.d1 = { id: 'd1', name: 'tor', vtepIp: '198.18.0.40', target: 'tcp:127.0.0.1:6640' };
  s.bindings.b1 = { id: 'b1', deviceId: 'd1', port: 'p1', vlan: 10, networkId: 'n1', vni: 100 };
  s.hypervisors.hv1 = '198.18.0.11';
  s.ports.vm1 = { id: 'vm1', tenant: 't', networkId: 'n1', mac: 'FA:16:3E:00:00:01', deviceId: '', fixedIps: [{ subnetId: 's', ip: '10.1.0.5' }], hostId: 'hv1', createdSeq: 1 };
  return s;
}

describe('planDevice', () => {
  it('inserts the locator, the logical switch, the binding beside the foreign one, the remote MAC and the flood set in one transaction', () => {
    const { ops, problems } = planDevice(vtepView(switchDb()), desiredDevice(bound(), 'd1'), '198.18.0.40');
    expect(problems).toEqual([]);
    expect(ops).toEqual([
      { op: 'insert', table: 'Logical_Switch', row: { name: 'strata-n1', tunnel_key: 100, replication_mode: 'source_node', description: 'Strata network' }, 'uuid-name': 'ls1' },
      { op: 'insert', table: 'Physical_Locator', row: { encapsulation_type: 'vxlan_over_ipv4', dst_ip: '198.18.0.11' }, 'uuid-name': 'loc2' },
      { op: 'insert', table: 'Physical_Locator_Set', row: { locators: ['set', [['named-uuid', 'loc2']]] }, 'uuid-name': 'set3' },
      { op: 'update', table: 'Physical_Port', where: [['_uuid', '==', ['uuid', 'p1']]], row: { vlan_bindings: ['map', [[10, ['named-uuid', 'ls1']], [99, ['uuid', 'other']]]] } },
      { op: 'insert', table: 'Ucast_Macs_Remote', row: { MAC: 'fa:16:3e:00:00:01', logical_switch: ['named-uuid', 'ls1'], locator: ['named-uuid', 'loc2'], ipaddr: '10.1.0.5' } },
      { op: 'insert', table: 'Mcast_Macs_Remote', row: { MAC: 'unknown-dst', logical_switch: ['named-uuid', 'ls1'], locator_set: ['named-uuid', 'set3'] } },
    ]);
  });

  it('has the switch replicate floods itself: a logical switch left in the default service_node mode is set to source_node, once', () => {
    const r = switchDb();
    r.apply({ Logical_Switch: { mine: { new: { name: 'strata-n1', tunnel_key: 100, replication_mode: 'service_node' } } } });
    const set = { op: 'update', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', 'mine']]], row: { tunnel_key: 100, replication_mode: 'source_node' } };
    expect(planDevice(vtepView(r), desiredDevice(bound(), 'd1'), '198.18.0.40').ops).toContainEqual(set);
    r.apply({ Logical_Switch: { mine: { new: { name: 'strata-n1', tunnel_key: 100, replication_mode: 'source_node' } } } });
    expect(planDevice(vtepView(r), desiredDevice(bound(), 'd1'), '198.18.0.40').ops).not.toContainEqual(set);
  });

  it('names what the switch lacks instead of writing it', () => {
    const s = bound();
    s.bindings.b2 = { id: 'b2', deviceId: 'd1', port: 'p9', vlan: 11, networkId: 'n1', vni: 100 };
    expect(planDevice(vtepView(switchDb()), desiredDevice(s, 'd1'), '198.18.0.40').problems).toEqual(['switch sw1 has no port p9']);
    expect(planDevice(vtepView(new Replica(Object.keys(VTEP_MONITORED))), desiredDevice(s, 'd1'), '198.18.0.40').problems[0]).toMatch(/no physical switch/);
  });

  it('leaves a database without anything of ours untouched when nothing is bound', () => {
    expect(planDevice(vtepView(switchDb()), desiredDevice(initialState(), 'd1'), '198.18.0.40').ops).toEqual([]);
  });

  it('leaves the logical switch of another device served by the same database alone', () => {
    const r = switchDb();
    r.apply({
      Physical_Switch: { s2: { new: { name: 'sw2', ports: ['uuid', 'q1'], tunnel_ips: '198.18.0.41' } } },
      Physical_Port: { q1: { new: { name: 'q1', vlan_bindings: ['map', [[20, ['uuid', 'n2']]]] } } },
      Logical_Switch: { n2: { new: { name: 'strata-n2', tunnel_key: 200 } } },
      Physical_Locator: { l: { new: { encapsulation_type: 'vxlan_over_ipv4', dst_ip: '198.18.0.12' } } },
      Ucast_Macs_Remote: { u: { new: { MAC: 'fa:16:3e:00:00:02', logical_switch: ['uuid', 'n2'], locator: ['uuid', 'l'], ipaddr: '' } } },
    });
    const s = initialState();
    s.devices.d1 = { id: 'd1', name: 'tor1', vtepIp: '198.18.0.40', target: 'tcp:127.0.0.1:6640' };
    s.devices.d2 = { id: 'd2', name: 'tor2', vtepIp: '198.18.0.41', target: 'tcp:127.0.0.1:6640' };
    s.bindings.b2 = { id: 'b2', deviceId: 'd2', port: 'q1', vlan: 20, networkId: 'n2', vni: 200 };
    expect(desiredElsewhere(s, 'd1')).toEqual(new Set(['strata-n2']));
    expect(planDevice(vtepView(r), desiredDevice(s, 'd1'), '198.18.0.40', desiredElsewhere(s, 'd1')).ops).toEqual([]);
    // Not wanted anywhere (d2 gone): the switch goes, with its MAC and sw2's binding to it (which would keep it referenced).
    delete s.devices.d2;
    const { ops } = planDevice(vtepView(r), desiredDevice(s, 'd1'), '198.18.0.40', desiredElsewhere(s, 'd1'));
    expect(ops).toContainEqual({ op: 'delete', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', 'n2']]] });
    expect(ops).toContainEqual({ op: 'delete', table: 'Ucast_Macs_Remote', where: [['_uuid', '==', ['uuid', 'u']]] });
    expect(ops).toContainEqual({ op: 'update', table: 'Physical_Port', where: [['_uuid', '==', ['uuid', 'q1']]], row: { vlan_bindings: ['map', []] } });
  });
});
