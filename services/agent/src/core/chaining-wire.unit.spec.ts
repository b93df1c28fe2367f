import type { ChainHop, ChainMember, HostChain, LocalPort } from '@strata/contracts';
import { describe, expect, it } from 'vitest';
import { desiredWire, LEG_FLAGS, localWireMember, parsePortFlags, parseWireTable, planWire, PLAIN_FLAGS, type WireState } from './chaining-wire.js';
import { chainSetName } from './chaining.js';
import { emptySnapshot, type HostViewSnapshot } from './snapshot.js';

const R = 'router-1';
const port = (id: string, device = `tap-${id}`): LocalPort => ({ id, tenant: 't', networkId: 'web', mac: '02:00:00:00:00:01', fixedIps: [], device, groupIds: [], portSecurity: false });
const leg = (portId: string): ChainMember['ingress'] => ({ portId, networkId: 'web', mac: '02:00:00:00:00:02', ips: [] });
const fw: ChainMember = { functionId: 'f1', ingress: leg('in'), egress: leg('out'), healthy: true, healthCheck: null, virtualIp: null };
const hop = (over: Partial<ChainHop> = {}): ChainHop => ({ groupId: 'g', mode: 'wire', selection: 'active-standby', fallback: 'fail-closed', members: [fw], activeFunctionId: 'f1', ...over });
const chain = (hops: ChainHop[], over: Partial<HostChain> = {}): HostChain => ({
  id: 'c',
  tenant: 't',
  domainId: R,
  symmetric: true,
  classifiers: [{ id: 'cl', ethertype: 'IPv4', protocol: 'tcp', source: { groupId: 'WEB', cidr: null }, destination: { groupId: null, cidr: '10.0.1.20/32' }, sourcePorts: null, destinationPorts: { min: 9000, max: 9000 } }],
  hops,
  ...over,
});

function view(c: HostChain | null, local = ['vm', 'in', 'out']): HostViewSnapshot {
  const v = emptySnapshot();
  v.domains[R] = { id: R, tenant: 't', kind: 'router', networkIds: ['web'] };
  v.networks.web = { id: 'web', tenant: 't', vni: 100, mtu: 1450, subnets: [], domainId: R, gatewayMac: '02:53:47:00:00:01', floodVteps: [] };
  for (const id of local) v.ports[id] = port(id);
  v.members['WEB.p'] = { groupId: 'WEB', portId: 'p', ips: ['10.0.1.10', 'fd00::10'] };
  if (c) v.chains[c.id] = c;
  return v;
}

const G4 = chainSetName('WEB', 4);

describe('WIRE steering (desired)', () => {
  it('egress chains on the local taps and the VXLAN device steer the classifier to the legs; the legs mark and are isolated', () => {
    const w = desiredWire(view(chain([hop()])), {});
    expect(Object.keys(w.ports)).toEqual(['tap-in', 'tap-out']);
    expect(w.ports['tap-in']).toEqual(LEG_FLAGS);
    const t = w.table!;
    expect(Object.keys(t.chains).sort()).toEqual(['in_tap-in', 'in_tap-out', 'out_svx100', 'out_tap-vm']);
    expect(t.chains['in_tap-in']!.rules.map((r) => r.text)).toEqual(['meta mark set 0x0000ffff']);
    expect(t.chains['out_tap-vm']!.hook).toBe('egress');
    expect(t.chains['out_tap-vm']!.rules.map((r) => r.text)).toEqual([
      'meta mark and 0x0000ffff == 0x0000ffff accept',
      `meta protocol ip meta l4proto tcp ip saddr @${G4} ip daddr 10.0.1.20/32 th dport 9000 fwd to "tap-in"`,
      `meta protocol ip meta l4proto tcp ip saddr 10.0.1.20/32 ip daddr @${G4} th sport 9000 fwd to "tap-out"`,
    ]);
    expect(t.sets[G4]!.elements).toEqual(['10.0.1.10']);
    expect(t.sets[chainSetName('WEB', 6)]!.elements).toEqual(['fd00::10']);
  });

  it('the leg mark avoids the security-group port ids; a filtered leg is recognised by its own id', () => {
    const t = desiredWire(view(chain([hop()])), { 'tap-vm': '0x0000ffff', 'tap-in': '0x00000042' }).table!;
    expect(t.chains['in_tap-out']!.rules[0]!.text).toBe('meta mark set 0x0000fffe');
    expect(t.chains['out_tap-vm']!.rules.slice(0, 2).map((r) => r.text)).toEqual(['meta mark and 0x0000ffff == 0x0000fffe accept', 'meta mark and 0x0000ffff == 0x00000042 accept']);
  });

  it('no steering without a selected member whose legs are both here, for an L3 hop or a chain of several hops; local legs stay isolated', () => {
    expect(localWireMember(view(chain([hop()]), ['vm', 'in']), chain([hop()]))).toBeNull();
    expect(desiredWire(view(chain([hop()]), ['vm']), {})).toEqual({ table: null, ports: {} });
    expect(desiredWire(view(chain([hop({ mode: 'l3' })])), {})).toEqual({ table: null, ports: {} });
    for (const c of [chain([hop({ activeFunctionId: null })]), chain([hop(), hop()])]) {
      const w = desiredWire(view(c), {});
      expect(Object.keys(w.ports)).toEqual(['tap-in', 'tap-out']);
      expect(Object.keys(w.table!.chains).sort()).toEqual(['in_tap-in', 'in_tap-out']);
    }
    // flow-hash: the first healthy member.
    expect(localWireMember(view(null), chain([hop({ selection: 'flow-hash', activeFunctionId: null, members: [{ ...fw, healthy: false }] })]))).toBeNull();
    expect(localWireMember(view(null), chain([hop({ selection: 'flow-hash', activeFunctionId: null })]))).toBe(fw);
  });
});

describe('WIRE plan', () => {
  const want = desiredWire(view(chain([hop()])), {});
  const kernelOf = (w: WireState): WireState => ({
    table: w.table && parseWireTable(JSON.stringify({ nftables: [
      ...Object.values(w.table.sets).map((s) => ({ set: { name: s.name, type: s.type, elem: s.elements } })),
      ...Object.values(w.table.chains).map((c) => ({ chain: { name: c.name, hook: c.hook } })),
      ...Object.values(w.table.chains).flatMap((c) => c.rules.map((r) => ({ rule: { chain: c.name, comment: r.id } }))),
    ] })),
    ports: { ...w.ports, svx100: { learning: false, flood: true, mcastFlood: true, bcastFlood: true }, 'tap-vm': PLAIN_FLAGS },
  });

  it('nothing to do when the kernel has it; the whole table in one transaction when a chain differs; elements only when a set does', () => {
    expect(planWire(want, kernelOf(want))).toEqual({ nft: '', bridge: [] });
    const missing = kernelOf(want);
    delete missing.table!.chains['out_tap-vm'];
    const p = planWire(want, missing);
    expect(p.nft.split('\n').slice(0, 3)).toEqual(['add table netdev strata_wire', 'delete table netdev strata_wire', 'table netdev strata_wire {']);
    expect(p.nft).toContain('type filter hook egress device "tap-vm" priority 0; policy accept;');
    const stale = kernelOf(want);
    stale.table!.sets[G4]!.elements = ['10.0.1.99'];
    expect(planWire(want, stale).nft).toBe(`delete element netdev strata_wire ${G4} { 10.0.1.99 }\nadd element netdev strata_wire ${G4} { 10.0.1.10 }\n`);
  });

  it('legs isolated; with no WIRE chain the table goes and former legs flood and learn again, other ports untouched', () => {
    expect(planWire(want, { table: null, ports: { 'tap-in': PLAIN_FLAGS } }).bridge).toEqual(['link set dev tap-in learning off flood off mcast_flood off bcast_flood off']);
    const none = desiredWire(view(null), {});
    expect(planWire(none, kernelOf(want))).toEqual({
      nft: 'delete table netdev strata_wire\n',
      bridge: ['link set dev tap-in learning on flood on mcast_flood on bcast_flood on', 'link set dev tap-out learning on flood on mcast_flood on bcast_flood on'],
    });
    expect(planWire(none, { table: null, ports: { 'tap-vm': PLAIN_FLAGS } })).toEqual({ nft: '', bridge: [] });
  });

  it('reads bridge -j -d link show: ports of Strata bridges only (another bridge of the host is not the agent\'s)', () => {
    expect(parsePortFlags('[{"ifname":"a","master":"sbr100","learning":false,"flood":false,"mcast_flood":true,"bcast_flood":false},{"ifname":"b","master":"docker0","flood":false},{"ifname":"sbr100"}]')).toEqual({
      a: { learning: false, flood: false, mcastFlood: true, bcastFlood: false },
    });
  });
});
