/**
 * Stretched segments across availability zones, with real packets (docs/
 * architecture.md, "Availability zones"): two complete Stratas on one
 * underlay (`Zones`: zone az1 with hv1 and hv2, zone az2 with hv3), each
 * with its own BGP gateway, federated through an FRR route reflector with
 * TCP-MD5.
 *
 * Two tenants with identical addresses each stretch a segment across both
 * zones: created in az1 (its VNI from az1's range), joined in az2 by an admin
 * with the same VNI; the same subnet in both zones with disjoint allocation
 * pools. Shown: VMs in az1 and az2 ping and TCP-connect both ways; the
 * traffic goes hypervisor to hypervisor in VXLAN with each tenant's VNI,
 * nothing to the reflector or the gateways; neither tenant reaches the
 * other; a VM deleted in az2 leaves az1's host views.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { capture, REFLECTOR_IP, Zones, type Principal, type Vm, type Zone } from '@strata/lab';
import { waitFor } from '@strata/testing';
import { describeIf, kernel } from '@strata/testing/suites';
import type { NatsConnection } from 'nats';
import { whoamiEventually, whoamiServer } from '../support/whoami.js';
import { CIDR, hostviewKeys, segmentVm, stretchedSegment, TWO_ZONES, type Segment } from './support.js';

const d = describeIf(kernel(['tcpdump', '--version'], ['gobgpd', '--version'], ['/usr/lib/frr/bgpd', '--version']));
const WHOAMI_PORT = 7070;

d('segments stretched across two availability zones (two tenants, identical addresses)', () => {
  let zones: Zones;
  let az1: Zone;
  let az2: Zone;
  let admin1: NatsConnection;
  /** tenant → its VM in az1 and in az2. */
  const vms = new Map<string, { az1: Vm; az2: Vm; vni: number }>();
  const servers: { stop(): Promise<void> }[] = [];

  /** A VM of the tenant on `hostId` in `zone`, in a group that admits the whole segment (the other zone's VMs are addresses there, not members). */
  async function vm(zone: Zone, who: Principal, s: Segment, name: string, hostId: string): Promise<Vm> {
    const group = await zone.lab.secgroup.command('group.create', { name: `${name}-segment`, description: '', egressRules: true }, who);
    await zone.lab.secgroup.command('rule.create', { groupId: group.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'any', remoteCidr: CIDR }, who);
    return segmentVm(zone, who, s, name, hostId, [group.id]);
  }

  beforeAll(async () => {
    zones = await Zones.start(TWO_ZONES);
    az1 = zones.zone('az1');
    az2 = zones.zone('az2');
    admin1 = await az1.lab.natsUsers.connect('admin');
    for (const [tenant, hostInAz1] of [['tenant-a', 'hv1'], ['tenant-b', 'hv2']] as const) {
      const who = { tenant, admin: false };
      const one = await stretchedSegment(az1, who);
      const two = await stretchedSegment(az2, who, one.net.vni);
      expect(two.net.vni).toBe(one.net.vni);
      vms.set(tenant, { az1: await vm(az1, who, one, `${tenant}-1`, hostInAz1), az2: await vm(az2, who, two, `${tenant}-2`, 'hv3'), vni: one.net.vni });
    }
    for (const { az1: a, az2: b } of vms.values()) for (const v of [a, b]) servers.push(await whoamiServer(v.ns.name, [WHOAMI_PORT]));
  }, 300_000);

  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
    await admin1?.close().catch(() => undefined);
    await zones?.destroy();
  });

  it('both tenants have the same addresses in both zones, from disjoint pools, on one VNI per tenant', () => {
    const [a, b] = [vms.get('tenant-a')!, vms.get('tenant-b')!];
    expect(a.az1.ip).toBe(b.az1.ip);
    expect(a.az2.ip).toBe(b.az2.ip);
    expect(a.az1.ip).toBe('10.0.0.10');
    expect(a.az2.ip).toBe('10.0.0.100');
    expect(a.vni).not.toBe(b.vni);
  });

  it('VMs in az1 and az2 ping and TCP-connect both ways, hypervisor to hypervisor in VXLAN with each tenant\'s VNI, nothing through the reflector or the gateways', async () => {
    const underlay = capture(zones.fabric.name, 'ul0', 'udp port 4789', 20);
    await underlay.started;
    for (const { az1: a, az2: b } of vms.values()) {
      await a.pingEventually(b.ip);
      await b.pingEventually(a.ip);
      expect(await whoamiEventually(a.ns.name, b.ip, WHOAMI_PORT)).toBe(a.ip);
      expect(await whoamiEventually(b.ns.name, a.ip, WHOAMI_PORT)).toBe(b.ip);
    }
    const lines = await underlay.lines;
    const vxlan = (src: string, dst: string, vni: number) => lines.some((l) => l.includes(`${src}.`) && l.includes(`> ${dst}.`) && l.includes(`vni ${vni}`));
    const { vni: vniA } = vms.get('tenant-a')!;
    const { vni: vniB } = vms.get('tenant-b')!;
    expect(vxlan('198.18.0.11', '198.18.0.13', vniA) && vxlan('198.18.0.13', '198.18.0.11', vniA)).toBe(true);
    expect(vxlan('198.18.0.12', '198.18.0.13', vniB) && vxlan('198.18.0.13', '198.18.0.12', vniB)).toBe(true);
    // tenant A's segment never touches tenant B's hypervisor in az1, and no VXLAN goes to or from the reflector or a gateway
    expect(lines.some((l) => l.includes(`vni ${vniA}`) && l.includes('198.18.0.12.'))).toBe(false);
    for (const box of [REFLECTOR_IP, az1.gatewayIp, az2.gatewayIp]) expect(lines.some((l) => l.includes(`${box}.`))).toBe(false);
  });

  it('neither tenant reaches the other: the same address answers with its own tenant\'s VM only', async () => {
    const [a, b] = [vms.get('tenant-a')!, vms.get('tenant-b')!];
    const seen = capture(b.az2.ns.name, 'eth0', 'icmp or tcp', 6);
    await seen.started;
    expect(await whoamiEventually(a.az1.ns.name, a.az2.ip, WHOAMI_PORT)).toBe(a.az1.ip);
    await a.az1.pingEventually(a.az2.ip);
    expect((await seen.lines).filter((l) => l.includes('IP '))).toEqual([]);
    // each tenant's az1 VM has the address of az2 resolved to its own tenant's VM
    const neigh = async (v: Vm, ip: string) => (await v.ns.exec(['ip', 'neigh', 'show', ip])).trim();
    expect(await neigh(a.az1, a.az2.ip)).toContain(a.az2.port.mac);
    await b.az1.pingEventually(b.az2.ip);
    expect(await neigh(b.az1, b.az2.ip)).toContain(b.az2.port.mac);
  });

  it("a VM deleted in az2 is withdrawn from az1's host views", async () => {
    const { az2: gone, vni } = vms.get('tenant-b')!;
    // hostview's id of a zone's MAC on a VNI (services/hostview physical.ts): phys-<zone-device>-<vni>-<mac without colons>
    const key = `hv2.ep.phys-zone-az2-${vni}-${gone.port.mac.replaceAll(':', '')}`;
    const endpointOf = (keys: string[]) => keys.filter((k) => k === key);
    await waitFor(async () => endpointOf(await hostviewKeys(admin1, 'hv2')).length > 0, { timeoutMs: 30_000, intervalMs: 200, message: "az2's VM in hv2's view" });
    await gone.detach();
    await az2.lab.ipam.command('port.delete', { id: gone.port.id }, { tenant: 'tenant-b', admin: false });
    await waitFor(async () => endpointOf(await hostviewKeys(admin1, 'hv2')).length === 0, { timeoutMs: 60_000, intervalMs: 200, message: "az2's VM gone from hv2's view" });
    // tenant A's stretched segment is untouched
    const { az1: a1, az2: a2 } = vms.get('tenant-a')!;
    expect(await a1.pingOnce(a2.ip)).toBe(true);
  });
});
