/** EVPN towards hardware VTEPs, pure: desired type-2/3 routes, their diff against the engine, and what a switch's routes record. */
import { describe, expect, it } from 'vitest';
import { physicalMacId, physicalVtepId } from '@strata/contracts';
import { observeSwitch, orphanPhysical, recordPhysical } from './decide/index.js';
import { desiredEvpn, diffEvpn, evpnExportTargets, type EvpnRoute } from './evpn.js';
import { desiredNeighbours, type EvpnNeighbour } from './neighbours.js';
import { given } from './test/given.js';

const VM1 = '02:00:00:00:00:01';
const VM2 = '02:00:00:00:00:02';

/** net-a (VNI 1000) with a VM on hv1 and one on hv2, bound on switch leaf1 (AS 65010); net-b (1001) not bound. */
const cloud = () =>
  given()
    .host('hv1', '198.18.0.11')
    .host('hv2', '198.18.0.12')
    .network('net-a', false, ['s-a', '10.0.0.0/24'])
    .network('net-b', false, ['s-b', '10.1.0.0/24'])
    .port('p1', 'net-a', 'hv1', ['10.0.0.10'], 'vm-1', VM1)
    .port('p2', 'net-a', 'hv2', ['10.0.0.11'], 'vm-2', VM2)
    .port('p3', 'net-b', 'hv1', ['10.1.0.10'], 'vm-3', '02:00:00:00:00:03')
    .evpnDevice('leaf1', '198.18.0.50', '198.18.0.50', 65010);

const routes = (g: ReturnType<typeof given>): string[] =>
  [...desiredEvpn(g.state, '198.18.0.2').values()].map((a) => `${a.route.type} ${a.route.type === 'mac-ip' ? `${a.route.mac} ${a.route.ip}` : a.route.vtep} via ${a.route.nextHop} vni ${a.route.vni} rt ${a.routeTargets.map((t) => `${t.asn}:${t.value}`).join(',')}`).sort();

describe('desired EVPN routes', () => {
  it('nothing without a binding; a binding: a type 2 per port address and a type 3 per hosting hypervisor, RT <switch AS>:<VNI>', () => {
    const g = cloud();
    expect(routes(g)).toEqual([]);
    g.bind('b1', 'leaf1', 'net-a');
    expect(routes(g)).toEqual([
      'imet 198.18.0.11 via 198.18.0.11 vni 1000 rt 65010:1000',
      'imet 198.18.0.12 via 198.18.0.12 vni 1000 rt 65010:1000',
      `mac-ip ${VM1} 10.0.0.10 via 198.18.0.11 vni 1000 rt 65010:1000`,
      `mac-ip ${VM2} 10.0.0.11 via 198.18.0.12 vni 1000 rt 65010:1000`,
    ]);
    expect(evpnExportTargets(g.state)).toEqual(new Map([['leaf1', [{ asn: 65010, value: 1000 }]]]));
  });

  it('a move changes the next hop and the flood routes; an unbound port and a port without addresses', () => {
    const g = cloud().bind('b1', 'leaf1', 'net-a');
    g.state.fabric.ports['p2'] = { ...g.state.fabric.ports['p2']!, hostId: 'hv1' };
    g.port('p4', 'net-a', null, ['10.0.0.12'], 'vm-4', '02:00:00:00:00:04');
    g.port('p5', 'net-a', 'hv1', [], 'vm-5', '02:00:00:00:00:05');
    expect(routes(g)).toEqual([
      'imet 198.18.0.11 via 198.18.0.11 vni 1000 rt 65010:1000',
      `mac-ip ${VM1} 10.0.0.10 via 198.18.0.11 vni 1000 rt 65010:1000`,
      `mac-ip ${VM2} 10.0.0.11 via 198.18.0.11 vni 1000 rt 65010:1000`,
      'mac-ip 02:00:00:00:00:05  via 198.18.0.11 vni 1000 rt 65010:1000',
    ]);
  });

  it('a network bound on two switches carries both route targets; each switch exports only its own VNIs', () => {
    const g = cloud().evpnDevice('leaf2', '198.18.0.51', '198.18.0.51', 65020).bind('b1', 'leaf1', 'net-a').bind('b2', 'leaf2', 'net-a').bind('b3', 'leaf2', 'net-b');
    expect(routes(g).filter((r) => r.includes('vni 1000')).every((r) => r.endsWith('rt 65010:1000,65020:1000'))).toBe(true);
    expect(evpnExportTargets(g.state)).toEqual(
      new Map([
        ['leaf1', [{ asn: 65010, value: 1000 }]],
        ['leaf2', [{ asn: 65020, value: 1000 }, { asn: 65020, value: 1001 }]],
      ]),
    );
  });

  it('the diff adds what is new or changed and withdraws what is gone; twice is nothing', () => {
    const g = cloud().bind('b1', 'leaf1', 'net-a');
    const desired = desiredEvpn(g.state, '198.18.0.2');
    const first = diffEvpn(desired, new Map());
    expect(first.add).toHaveLength(4);
    expect(diffEvpn(desired, desired)).toEqual({ add: [], withdraw: [] });
    delete g.state.fabric.bindings['b1'];
    expect(diffEvpn(desiredEvpn(g.state, '198.18.0.2'), desired).withdraw).toHaveLength(4);
  });
});

describe('a switch\'s routes recorded', () => {
  const sw = (g: ReturnType<typeof given>): EvpnNeighbour => desiredNeighbours(g.state).get('198.18.0.50') as EvpnNeighbour;
  const mac = (vni: number, m: string, ip: string, nextHop = '198.18.0.50'): EvpnRoute => ({ type: 'mac-ip', rd: '198.18.0.50:2', vni, mac: m, ip, nextHop });
  const imet = (vni: number, vtep = '198.18.0.50'): EvpnRoute => ({ type: 'imet', rd: '198.18.0.50:2', vni, vtep, nextHop: vtep });

  it('the switch is an evpn neighbour (a fabric peer at its address wins)', () => {
    expect(sw(cloud())).toEqual({ kind: 'evpn', address: '198.18.0.50', remoteAs: 65010, passwordRef: null, deviceId: 'leaf1' });
    expect(desiredNeighbours(cloud().peer('tor', '198.18.0.50').state).get('198.18.0.50')?.kind).toBe('fabric');
  });

  it('records a bound VNI\'s MAC and VTEP with the binding\'s tenant, refuses an unbound VNI and a foreign VTEP', () => {
    const g = cloud().bind('b1', 'leaf1', 'net-a');
    const seen = observeSwitch(g.state, sw(g), [mac(1000, 'aa:bb:cc:00:00:01', '10.0.0.200'), imet(1000), mac(4000, 'aa:bb:cc:00:00:02', ''), mac(1000, 'aa:bb:cc:00:00:03', '', '198.18.0.11')], true);
    expect([...seen.targets.values()].map((t) => [t.record.kind, t.record.tenant, t.learned])).toEqual([
      ['mac', 't', true],
      ['vtep', 't', true],
    ]);
    expect(seen.rejected.map((r) => r.reason)).toEqual(['unbound-vni', 'foreign-vtep']);
    const id = physicalMacId('leaf1', 1000, 'aa:bb:cc:00:00:01', '10.0.0.200');
    const d = recordPhysical(g.state, id, seen.targets.get(id)!);
    expect(d).toMatchObject({ kind: 'append', tenant: 't', expectedVersion: 0, event: { type: 'bgp.PhysicalMacLearned', data: { deviceId: 'leaf1', vni: 1000, mac: 'aa:bb:cc:00:00:01', ip: '10.0.0.200', vtep: '198.18.0.50' } } });
  });

  it('a settled table withdraws what is missing; an unbinding withdraws everything of that VNI; recording twice is done', () => {
    const g = cloud().bind('b1', 'leaf1', 'net-a');
    const vtepId = physicalVtepId('leaf1', 1000, '198.18.0.50');
    g.state.physical[vtepId] = { id: vtepId, version: 7, learned: true, tenant: 't', kind: 'vtep', data: { deviceId: 'leaf1', vni: 1000, vtep: '198.18.0.50' } };
    expect(recordPhysical(g.state, vtepId, observeSwitch(g.state, sw(g), [imet(1000)], true).targets.get(vtepId)!).kind).toBe('done');
    expect(observeSwitch(g.state, sw(g), [], false).targets.size).toBe(0);
    const gone = observeSwitch(g.state, sw(g), [], true).targets.get(vtepId)!;
    expect(recordPhysical(g.state, vtepId, gone)).toMatchObject({ kind: 'append', expectedVersion: 7, event: { type: 'bgp.PhysicalVtepWithdrawn' } });
    delete g.state.fabric.bindings['b1'];
    expect(orphanPhysical(g.state, desiredNeighbours(g.state)).get(vtepId)?.learned).toBe(false);
  });
});
