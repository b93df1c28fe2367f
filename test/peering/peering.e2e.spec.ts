/**
 * VPC peering with real packets (issue 20): three tenant routers on one
 * peering segment — two of tenant A (the owner), one of tenant B (granted) —
 * each with a subnet and a VM on its own hypervisor, reach each other's VMs
 * (ping and TCP) through the routers' namespaces on the source host. Tenant
 * C, not granted, cannot join; its router with A's very addresses, on a
 * fourth hypervisor, is unaffected throughout. Detaching one router makes
 * its prefix unreachable from the others and leaves them working; deleting
 * everything leaves no peering in any host view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { hostviewBucket, type NetworkView, type PeeringAttachmentView, type PeeringSegmentView, type SubnetView } from '@strata/contracts';
import { eventually, Lab, type ManagedProcess, type Principal, type Vm } from '@strata/lab';
import { whoami, whoamiEventually, whoamiServer } from '../support/whoami.js';

const PORT = 41080;

interface Site {
  who: Principal;
  net: NetworkView;
  subnet: SubnetView;
  routerId: string;
  vm: Vm;
}

describe('VPC peering: three routers on one segment', () => {
  let lab: Lab;
  let admin: NatsConnection;
  let segment: PeeringSegmentView;
  const site: Record<string, Site> = {};
  const attachment: Record<string, PeeringAttachmentView> = {};
  const servers: ManagedProcess[] = [];
  /** Tenants whose default group already admits 10/8. */
  const admitted = new Set<string>();
  const A: Principal = { tenant: 'tenant-a', admin: false };
  const B: Principal = { tenant: 'tenant-b', admin: false };
  const C: Principal = { tenant: 'tenant-c', admin: false };

  /** A router of `who` (or a subnet more on `routerId`) with one subnet and one VM on `hostId`, whose default group admits the tenants' 10/8 (peers are no members). */
  async function siteOn(name: string, who: Principal, cidr: string, hostId: string, routerId?: string): Promise<Site> {
    const net = await lab.ipam.command('network.create', { name }, who);
    const subnet = await lab.ipam.command('subnet.create', { networkId: net.id, cidr }, who);
    const router = routerId === undefined ? await lab.ipam.command('router.create', { name }, who) : { id: routerId };
    await lab.ipam.command('router.addInterface', { id: router.id, subnetId: subnet.id }, who);
    const port = await lab.ipam.command('port.create', { networkId: net.id, name, hostId }, who);
    const vm = await lab.addVm(name, port, hostId);
    await vm.configureStatic({ [subnet.id]: { prefixLength: 24, gatewayIp: subnet.gatewayIp, mtu: net.mtu } });
    if (!admitted.has(who.tenant)) {
      admitted.add(who.tenant);
      const groups = await lab.secgroup.query('port.get', { portId: port.id }, who);
      for (const protocol of ['icmp', 'tcp'] as const) {
        await lab.secgroup.command('rule.create', { groupId: groups.groupIds[0]!, direction: 'ingress', ethertype: 'IPv4', protocol, remoteCidr: '10.0.0.0/8' }, who);
      }
    }
    servers.push(await whoamiServer(vm.ns.name, [PORT]));
    return { who, net, subnet, routerId: router.id, vm };
  }

  /** The peering fields of every key of a host's view (what must be gone at the end). */
  async function peeringKeys(hostId: string): Promise<string[]> {
    const kv = await admin.jetstream().views.kv(hostviewBucket(hostId), { bindOnly: true });
    const found: string[] = [];
    for await (const key of await kv.keys()) {
      const e = await kv.get(key);
      if (e?.operation === 'PUT' && e.string().includes('"peerings"')) found.push(key);
    }
    return found;
  }

  /** Ping and TCP both reach `to` from `from` (the server sees the VM's own address: no NAT on the way). */
  async function reaches(from: Vm, to: Vm): Promise<void> {
    await from.pingEventually(to.ip);
    expect(await whoamiEventually(from.ns.name, to.ip, PORT)).toBe(from.ip);
  }

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 4 });
    admin = await lab.natsUsers.connect('admin');
    site.a1 = await siteOn('a1', A, '10.1.0.0/24', 'hv1');
    site.a2 = await siteOn('a2', A, '10.2.0.0/24', 'hv2');
    site.b = await siteOn('b', B, '10.3.0.0/24', 'hv3');
    // Tenant C uses A's first range, on its own hypervisor: elsewhere, never on the segment.
    site.c = await siteOn('c', C, '10.1.0.0/24', 'hv4');
    site.c2 = await siteOn('c2', C, '10.4.0.0/24', 'hv4', site.c.routerId);
    segment = await lab.ipam.command('peeringsegment.create', { name: 'transit', cidr: '169.254.50.0/28' }, A);
    await lab.ipam.command('peeringsegment.grant', { id: segment.id, tenant: 'tenant-b' }, A);
    for (const [name, who] of [['a1', A], ['a2', A], ['b', B]] as const) {
      attachment[name] = await lab.ipam.command('peeringsegment.attach', { segmentId: segment.id, routerId: site[name]!.routerId }, who);
    }
  }, 240_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop(2_000)));
    await admin?.close();
    await lab?.destroy();
  });

  it('all three routers reach each other’s VMs, ping and TCP, both ways', async () => {
    const names = ['a1', 'a2', 'b'];
    for (const from of names) for (const to of names) if (from !== to) await reaches(site[from]!.vm, site[to]!.vm);
    // hv1 realises all three routers: three transit links on the segment's bridge.
    const links = await lab.host('hv1').ns.ip(['-o', 'link', 'show', 'master', `sbr${segment.vni}`]);
    expect(links.split('\n').filter((l) => l.includes('spp')).length).toBe(3);
  });

  it('a router of a tenant that did not agree cannot join; tenant C’s same addresses stay its own', async () => {
    await expect(lab.ipam.command('peeringsegment.attach', { segmentId: segment.id, routerId: site.c2!.routerId }, C)).rejects.toThrow(/peering segment .* not found/);
    await expect(lab.ipam.command('peeringsegment.attach', { segmentId: segment.id, routerId: site.c2!.routerId })).rejects.toThrow(/tenant tenant-c is not granted/);
    // C's VMs talk to each other through C's router (its 10.1.0.0/24 is not A's), and C reaches none of the peers.
    await reaches(site.c2!.vm, site.c!.vm);
    await reaches(site.a2!.vm, site.a1!.vm);
    expect(await whoami(site.c2!.vm.ns.name, site.a2!.vm.ip, PORT)).toBeNull();
    expect(await whoami(site.b!.vm.ns.name, site.c2!.vm.ip, PORT)).toBeNull();
    // hv4 realises no router of the segment.
    expect(await peeringKeys('hv4')).toEqual([]);
  });

  it('detaching one router makes its prefix unreachable from the others and leaves the others working', async () => {
    await lab.ipam.command('peeringsegment.detach', { id: attachment.b!.id }, B);
    await eventually(async () => !(await site.a1!.vm.pingOnce(site.b!.vm.ip)), 'b unreachable from a1', 40);
    expect(await whoami(site.a2!.vm.ns.name, site.b!.vm.ip, PORT)).toBeNull();
    expect(await whoami(site.b!.vm.ns.name, site.a1!.vm.ip, PORT)).toBeNull();
    await reaches(site.a1!.vm, site.a2!.vm);
    await reaches(site.a2!.vm, site.a1!.vm);
  });

  it('removing everything leaves no peering in any host view', async () => {
    for (const name of ['a1', 'a2']) await lab.ipam.command('peeringsegment.detach', { id: attachment[name]!.id }, A);
    await lab.ipam.command('peeringsegment.delete', { id: segment.id }, A);
    for (const h of ['hv1', 'hv2', 'hv3', 'hv4']) await eventually(async () => (await peeringKeys(h)).length === 0, `no peering in ${h}'s view`, 40);
    // And nothing of it in the kernels: no segment bridge, no transit link (their domain ends go with them).
    const leftovers = async (h: string): Promise<string[]> =>
      (await lab.host(h).ns.ip(['-o', 'link', 'show'])).split('\n').filter((l) => l.includes('spp') || l.includes(`sbr${segment.vni}:`) || l.includes(`sbr${segment.vni}@`));
    for (const h of ['hv1', 'hv2', 'hv3', 'hv4']) await eventually(async () => (await leftovers(h)).length === 0, `no peering link on ${h}`, 40);
    expect(await whoami(site.a1!.vm.ns.name, site.a2!.vm.ip, PORT)).toBeNull();
  });
});
