import { describe, expect, it } from 'vitest';
import type { GatewayMacsObservation } from '@strata/contracts';
import { decideGatewayMacs, decideStaleGatewayMacs, gatewayMacEventId, judgeGatewayMacs, judgeStaleGatewayMacs } from './decide/index.js';
import { tenantA, World } from './test/given.js';

/** Host device `gw` on hypervisor gw1 (VTEP 198.18.0.11) with binding `b` (trunk0 VLAN 100 → network A), hv2 a plain hypervisor. */
function world() {
  const w = new World();
  const pool = w.run('pool.create', { name: 'hosts', cidr: '203.0.113.0/24', purpose: 'host-ip' }).resourceId;
  w.run('hypervisor.register', { id: 'gw1', vtepIp: '198.18.0.11', hostPoolId: pool });
  w.run('hypervisor.register', { id: 'hv2', vtepIp: '198.18.0.12', hostPoolId: pool });
  const gw = w.run('gatewaydevice.create', { name: 'gw', kind: 'host', hostId: 'gw1', ports: [{ name: 'trunk0', tenant: 'tenant-a' }] }).resourceId;
  const netA = w.run('network.create', { name: 'a' }, tenantA).resourceId;
  const b = w.run('gatewaybinding.create', { deviceId: gw, port: 'trunk0', vlan: 100, networkId: netA }, tenantA).resourceId;
  return { w, gw, netA, b, vni: w.state.cloud.networks[netA]!.vni };
}

/** Record a report as IPAM's handler does: one difference per round until the decider says done; the events written. */
function record(w: World, reporter: string, report: GatewayMacsObservation) {
  const before = w.events.length;
  for (let i = 0; i < 100; i++) {
    const d = decideGatewayMacs(reporter, report)(w.state);
    if (d.kind !== 'append') break;
    expect(gatewayMacEventId(d)).toBe(gatewayMacEventId(decideGatewayMacs(reporter, report)(w.state) as typeof d));
    w.apply(d);
  }
  return w.events.slice(before).map((e) => ({ type: e.type, data: e.data as Record<string, unknown> }));
}

const report = (hostId: string, bindings: GatewayMacsObservation['bindings']): GatewayMacsObservation => ({ hostId, bindings });

describe('gateway hosts\' learned MACs', () => {
  it('records a MAC per IP (or MAC-only) with the host VTEP, nothing for an unchanged set, and withdraws what left', () => {
    const { w, gw, b, vni } = world();
    const first = record(w, 'gw1', report('gw1', [{ bindingId: b, macs: [{ mac: '02:AA:00:00:00:01', ips: ['10.0.0.9', 'fd00::0:9'] }, { mac: '02:aa:00:00:00:02', ips: [] }] }]));
    expect(first).toEqual([
      { type: 'ipam.PhysicalMacLearned', data: { bindingId: b, deviceId: gw, vni, mac: '02:aa:00:00:00:01', ip: '10.0.0.9', vtep: '198.18.0.11' } },
      { type: 'ipam.PhysicalMacLearned', data: { bindingId: b, deviceId: gw, vni, mac: '02:aa:00:00:00:01', ip: 'fd00::9', vtep: '198.18.0.11' } },
      { type: 'ipam.PhysicalMacLearned', data: { bindingId: b, deviceId: gw, vni, mac: '02:aa:00:00:00:02', vtep: '198.18.0.11' } },
    ]);
    const same = report('gw1', [{ bindingId: b, macs: [{ mac: '02:aa:00:00:00:02', ips: [] }, { mac: '02:aa:00:00:00:01', ips: ['fd00::9', '10.0.0.9'] }] }]);
    expect(judgeGatewayMacs(w.state, 'gw1', same)).toEqual({ kind: 'unchanged' });
    expect(record(w, 'gw1', report('gw1', [{ bindingId: b, macs: [{ mac: '02:aa:00:00:00:01', ips: ['10.0.0.9'] }] }])).map((e) => [e.type, e.data.mac, e.data.ip])).toEqual([
      ['ipam.PhysicalMacWithdrawn', '02:aa:00:00:00:01', 'fd00::9'],
      ['ipam.PhysicalMacWithdrawn', '02:aa:00:00:00:02', undefined],
    ]);
    // A binding the host no longer reports has learned nothing.
    expect(record(w, 'gw1', report('gw1', [])).map((e) => e.type)).toEqual(['ipam.PhysicalMacWithdrawn']);
    expect(w.state.cloud.gatewayMacs).toEqual({});
  });

  it('refuses, writing nothing: a report from another hypervisor, a subject that is not the report\'s host, another device\'s binding, a bad MAC or IP', () => {
    const { w, b } = world();
    const macs = [{ bindingId: b, macs: [{ mac: '02:aa:00:00:00:01', ips: ['10.0.0.9'] }] }];
    expect(judgeGatewayMacs(w.state, 'hv2', report('hv2', macs))).toEqual({ kind: 'ignore', reason: 'not-a-gateway-host' });
    expect(judgeGatewayMacs(w.state, 'hv2', report('gw1', macs))).toEqual({ kind: 'ignore', reason: 'reporter-mismatch' });
    expect(judgeGatewayMacs(w.state, 'gw1', report('gw1', [{ bindingId: 'nope', macs: [] }]))).toEqual({ kind: 'ignore', reason: 'foreign-binding' });
    expect(judgeGatewayMacs(w.state, 'gw1', report('gw1', [{ bindingId: b, macs: [{ mac: '02:aa', ips: [] }] }]))).toEqual({ kind: 'ignore', reason: 'bad-address' });
    expect(judgeGatewayMacs(w.state, 'gw1', report('gw1', [{ bindingId: b, macs: [{ mac: '02:aa:00:00:00:01', ips: ['10.0.0.999'] }] }]))).toEqual({ kind: 'ignore', reason: 'bad-address' });
    expect(record(w, 'hv2', report('hv2', macs))).toEqual([]);
    expect(w.state.cloud.gatewayMacs).toEqual({});
  });

  it('withdraws a binding\'s MACs when it moves to another device or is deleted, with the next accepted report', () => {
    const { w, gw, b } = world();
    record(w, 'gw1', report('gw1', [{ bindingId: b, macs: [{ mac: '02:aa:00:00:00:01', ips: [] }] }]));
    const sw = w.run('gatewaydevice.create', { name: 'tor', kind: 'ovsdb', vtepIp: '198.18.0.41', ovsdb: { target: 'tcp:198.18.0.41:6640' }, ports: [{ name: 'p1' }] }).resourceId;
    w.run('gatewaybinding.move', { id: b, deviceId: sw, port: 'p1' });
    // The host still names the binding (it has not caught up): refused whole.
    expect(judgeGatewayMacs(w.state, 'gw1', report('gw1', [{ bindingId: b, macs: [] }]))).toEqual({ kind: 'ignore', reason: 'foreign-binding' });
    expect(record(w, 'gw1', report('gw1', [])).map((e) => [e.type, e.data.deviceId])).toEqual([['ipam.PhysicalMacWithdrawn', gw]]);
    expect(w.state.cloud.gatewayMacs).toEqual({});
  });

  it("IPAM's sweep withdraws a deleted binding's MACs without any report, and nothing else", () => {
    const { w, b } = world();
    record(w, 'gw1', report('gw1', [{ bindingId: b, macs: [{ mac: '02:aa:00:00:00:01', ips: ['10.0.0.9'] }] }]));
    expect(judgeStaleGatewayMacs(w.state)).toEqual({ kind: 'unchanged' });
    w.run('gatewaybinding.delete', { id: b }, tenantA);
    const d = decideStaleGatewayMacs(w.state);
    expect(d).toMatchObject({ kind: 'append', event: { type: 'ipam.PhysicalMacWithdrawn', data: { bindingId: b, mac: '02:aa:00:00:00:01', ip: '10.0.0.9' } } });
    if (d.kind === 'append') w.apply(d);
    expect(decideStaleGatewayMacs(w.state).kind).toBe('done');
    expect(w.state.cloud.gatewayMacs).toEqual({});
  });

  it('derives one event id per difference and version: a second IPAM instance writes nothing more', () => {
    const { w, b } = world();
    const r = report('gw1', [{ bindingId: b, macs: [{ mac: '02:aa:00:00:00:01', ips: [] }] }]);
    const d1 = decideGatewayMacs('gw1', r)(w.state);
    const d2 = decideGatewayMacs('gw1', r)(w.state);
    expect(d1.kind === 'append' && d2.kind === 'append' && gatewayMacEventId(d1) === gatewayMacEventId(d2)).toBe(true);
  });
});
