/**
 * Routed reach across availability zones, with real packets (docs/
 * architecture.md, "Availability zones", "Routed reach across zones"): two
 * complete Stratas (`Zones`: az1 with hv1 and hv2, az2 with hv3) federated
 * through an FRR route reflector.
 *
 * Two tenants with identical addresses each stretch two segments, A
 * (10.0.0.0/24) and B (10.0.1.0/24), across both zones and attach both to a
 * tenant router in each zone (the same gateway addresses: each zone's
 * distributed router answers for them on its own hypervisors). A VM on A in
 * az1 reaches a VM on B in az2: the source hypervisor routes into B itself
 * and sends the packet in VXLAN with B's VNI straight to hv3; the reply is
 * routed by hv3 into A and goes back with A's VNI (asymmetric IRB: the
 * routing happens where the packet enters, no hop through a gateway, the
 * reflector or the other zone's control plane).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PortView } from '@strata/contracts';
import { capture, REFLECTOR_IP, stretchedSide, Zones, type Principal, type StretchedSide, type Vm, type Zone } from '@strata/lab';
import { describeIf, kernel } from '@strata/testing/suites';
import { whoamiEventually, whoamiServer } from '../support/whoami.js';

const d = describeIf(kernel(['tcpdump', '--version'], ['gobgpd', '--version'], ['/usr/lib/frr/bgpd', '--version']));
const SEGMENTS = { a: '10.0.0', b: '10.0.1' } as const;
/** Each zone allocates from its own part of every stretched subnet. */
const POOLS = { az1: { start: 10, end: 99 }, az2: { start: 100, end: 199 } } as const;
const WHOAMI_PORT = 7071;

type Segment = keyof typeof SEGMENTS;
type Side = StretchedSide;

d('routed reach across availability zones over stretched segments (two tenants, identical addresses)', () => {
  let zones: Zones;
  let az1: Zone;
  let az2: Zone;
  /** tenant → its VM on segment A in az1, on segment B in az2, and the segments' VNIs. */
  const tenants = new Map<string, { a1: Vm; b2: Vm; vni: Record<Segment, number> }>();
  const servers: { stop(): Promise<void> }[] = [];

  /** The tenant's segment in one zone (az2 joins az1's VNI), with the zone's pool of the shared subnet. */
  function side(zone: Zone, who: Principal, segment: Segment, vni?: number): Promise<Side> {
    const prefix = SEGMENTS[segment];
    const pool = POOLS[zone.spec.name as keyof typeof POOLS];
    return stretchedSide(zone, who, { name: `stretched-${segment}`, cidr: `${prefix}.0/24`, gatewayIp: `${prefix}.1`, pool: { start: `${prefix}.${pool.start}`, end: `${prefix}.${pool.end}` } }, vni);
  }

  /** Both segments in one zone, attached to the tenant's router there. */
  async function zoneSides(zone: Zone, who: Principal, vnis?: Record<Segment, number>): Promise<Record<Segment, Side>> {
    const a = await side(zone, who, 'a', vnis?.a);
    const b = await side(zone, who, 'b', vnis?.b);
    const router = await zone.lab.ipam.command('router.create', { name: 'cross-zone' }, who);
    for (const s of [a, b]) await zone.lab.ipam.command('router.addInterface', { id: router.id, subnetId: s.subnet.id }, who);
    return { a, b };
  }

  /** A VM on `s` in `zone`, in a group admitting both segments (the other zone's VMs are addresses to it). */
  async function vm(zone: Zone, who: Principal, s: Side, name: string, hostId: string): Promise<Vm> {
    const group = await zone.lab.secgroup.command('group.create', { name: `${name}-segments`, description: '', egressRules: true }, who);
    for (const prefix of Object.values(SEGMENTS))
      await zone.lab.secgroup.command('rule.create', { groupId: group.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'any', remoteCidr: `${prefix}.0/24` }, who);
    const port: PortView = await zone.lab.ipam.command('port.create', { networkId: s.net.id, name, hostId }, who);
    await zone.lab.secgroup.command('port.setGroups', { portId: port.id, groupIds: [group.id] }, who);
    const v = await zone.lab.addVm(name, port, hostId);
    await v.configureStatic({ [s.subnet.id]: { prefixLength: 24, gatewayIp: s.subnet.gatewayIp, mtu: s.net.mtu } });
    return v;
  }

  beforeAll(async () => {
    zones = await Zones.start([
      { name: 'az1', id: 1, hosts: [1, 2], vnis: { min: 10_000, max: 19_999 } },
      { name: 'az2', id: 2, hosts: [3], vnis: { min: 20_000, max: 29_999 } },
    ]);
    az1 = zones.zone('az1');
    az2 = zones.zone('az2');
    for (const [tenant, hostInAz1] of [['tenant-a', 'hv1'], ['tenant-b', 'hv2']] as const) {
      const who = { tenant, admin: false };
      const one = await zoneSides(az1, who);
      const vni = { a: one.a.net.vni, b: one.b.net.vni };
      const two = await zoneSides(az2, who, vni);
      tenants.set(tenant, { a1: await vm(az1, who, one.a, `${tenant}-a1`, hostInAz1), b2: await vm(az2, who, two.b, `${tenant}-b2`, 'hv3'), vni });
    }
    for (const { a1, b2 } of tenants.values()) for (const v of [a1, b2]) servers.push(await whoamiServer(v.ns.name, [WHOAMI_PORT]));
  }, 300_000);

  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
    await zones?.destroy();
  });

  it('both tenants have the same addresses: A in az1 and B in az2, each from its zone\'s pool', () => {
    const [a, b] = [tenants.get('tenant-a')!, tenants.get('tenant-b')!];
    expect([a.a1.ip, a.b2.ip]).toEqual(['10.0.0.10', '10.0.1.100']);
    expect([b.a1.ip, b.b2.ip]).toEqual([a.a1.ip, a.b2.ip]);
  });

  it("a VM on A in az1 and a VM on B in az2 reach each other through their own zone's router, hypervisor to hypervisor: B's VNI one way, A's back", async () => {
    const underlay = capture(zones.fabric.name, 'ul0', 'udp port 4789', 40);
    await underlay.started;
    for (const { a1, b2 } of tenants.values()) {
      await a1.pingEventually(b2.ip);
      await b2.pingEventually(a1.ip);
      expect(await whoamiEventually(a1.ns.name, b2.ip, WHOAMI_PORT)).toBe(a1.ip);
      expect(await whoamiEventually(b2.ns.name, a1.ip, WHOAMI_PORT)).toBe(b2.ip);
    }
    const lines = await underlay.lines;
    const vxlan = (src: string, dst: string, vni: number) => lines.some((l) => l.includes(`${src}.`) && l.includes(`> ${dst}.`) && l.includes(`vni ${vni}`));
    for (const [tenant, host] of [['tenant-a', '198.18.0.11'], ['tenant-b', '198.18.0.12']] as const) {
      const { vni } = tenants.get(tenant)!;
      // routed at the entry: into B at the az1 hypervisor, into A at hv3
      expect(vxlan(host, '198.18.0.13', vni.b), `${tenant}: az1 → az2 in B's VNI ${vni.b}`).toBe(true);
      expect(vxlan('198.18.0.13', host, vni.a), `${tenant}: az2 → az1 in A's VNI ${vni.a}`).toBe(true);
    }
    for (const box of [REFLECTOR_IP, az1.gatewayIp, az2.gatewayIp]) expect(lines.some((l) => l.includes(`${box}.`))).toBe(false);
  });

  it("neither tenant reaches the other: each az1 VM's connection to 10.0.1.100 lands on its own tenant's VM", async () => {
    const [a, b] = [tenants.get('tenant-a')!, tenants.get('tenant-b')!];
    const seen = capture(b.b2.ns.name, 'eth0', 'tcp port 7071', 6);
    await seen.started;
    expect(await whoamiEventually(a.a1.ns.name, a.b2.ip, WHOAMI_PORT)).toBe(a.a1.ip);
    expect((await seen.lines).filter((l) => l.includes('IP '))).toEqual([]);
    expect(await whoamiEventually(b.a1.ns.name, b.b2.ip, WHOAMI_PORT)).toBe(b.a1.ip);
  });
});
