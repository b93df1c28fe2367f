/**
 * NAT kernel state on a real kernel, without the control plane: a host view
 * with a floating IP, an external gateway, a routed network and an
 * appliance's announced prefix is reconciled into a hypervisor namespace, read
 * back exactly (a second reconcile plans nothing), repaired after drift, and
 * removed without a trace. Traffic through it is the end-to-end tests' part
 * (test/nat, test/bgp).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import type { HostViewSnapshot } from './core/snapshot.js';
import { hostView, subnet, type Cloud } from './testkit/cloud.js';
import { NetLab, sh, shOk, type LabHost } from './testkit/netlab.js';

const d = describeIf(kernel());

const router = randomUUID();
const net = randomUUID();
const pub = randomUUID();
const cloud: Cloud = {
  hosts: { hv1: '198.18.0.11' },
  networks: [
    { id: net, tenant: 'A', vni: 100, domainId: router, subnets: [subnet('s1', '10.0.0.0/24', '10.0.0.1')] },
    { id: pub, tenant: 'A', vni: 101, domainId: router, subnets: [subnet('s2', '203.0.113.176/28', '203.0.113.177'), subnet('s6', '2001:db8:176::/64', '2001:db8:176::1')] },
  ],
  domains: [{ id: router, tenant: 'A', kind: 'router' }],
  ports: [
    { id: randomUUID(), networkId: net, mac: '02:00:00:00:00:05', host: 'hv1', fixedIps: [{ subnetId: 's1', ip: '10.0.0.5' }] },
    { id: randomUUID(), networkId: pub, mac: '02:00:00:00:00:b2', host: 'hv1', fixedIps: [{ subnetId: 's2', ip: '203.0.113.178' }, { subnetId: 's6', ip: '2001:db8:176::b2' }] },
  ],
};

/** The view with NAT and BGP on top of the overlay: what hostview would put there. */
function natView(): HostViewSnapshot {
  const v = hostView(cloud, 'hv1');
  const [vm, appliance] = cloud.ports;
  v.domains[router] = { ...v.domains[router]!, externalGateway: true };
  v.networks[pub] = { ...v.networks[pub]!, routed: true };
  v.ports[vm!.id] = { ...v.ports[vm!.id]!, floatingIps: [{ address: '203.0.113.10', fixedIp: '10.0.0.5' }] };
  v.ports[appliance!.id] = { ...v.ports[appliance!.id]!, announcedRoutes: [{ prefix: '203.0.113.160/32', nextHop: '203.0.113.178' }] };
  return v;
}

d('NAT kernel state (a hypervisor namespace, real nftables and routes)', () => {
  let lab: NetLab;
  let h: LabHost;
  const domainNs = (): Promise<string> => sh(['ip', 'netns', 'list']).then((l) => l.split('\n').map((x) => x.split(' ')[0]!).find((n) => n.startsWith(h.nsPrefix))!);

  beforeAll(async () => {
    lab = await NetLab.create(1);
    h = lab.host(1);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('is read back exactly: the second reconcile plans nothing', async () => {
    await h.dataplane.reconcile(natView());
    expect((await h.dataplane.plan(natView())).plan).toEqual({ batches: [] });
    const routes = await sh(['ip', '-n', h.ns, 'route', 'show', 'proto', '83']);
    expect(routes).toMatch(/203\.0\.113\.10 via 169\.254\.\d+\.\d+ dev sx/);
    expect(routes).toMatch(/203\.0\.113\.176\/28 via 169\.254\.\d+\.\d+ dev sx/);
    expect(routes).toMatch(/203\.0\.113\.160 via 169\.254\.\d+\.\d+ dev sx/);
    const ns = await domainNs();
    expect(await sh(['ip', '-n', ns, 'route', 'show', 'proto', '83'])).toMatch(/203\.0\.113\.160 via 203\.0\.113\.178 dev qr101/);
    expect(await sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'map', 'ip', 'strata', 'fip_dnat'])).toContain('203.0.113.10 : 10.0.0.5');
    expect(await sh(['ip', 'netns', 'exec', h.ns, 'nft', 'list', 'table', 'ip', 'strata'])).toContain('snat to 203.0.113.1');
    // The routed IPv6 subnet: into the domain via its link-local end, out via the hypervisor's, guarded; the hypervisor forwards IPv6.
    expect(await sh(['ip', '-6', '-n', h.ns, 'route', 'show', 'proto', '83'])).toMatch(/2001:db8:176::\/64 via fe80::2 dev sx[0-9a-f]{12}/);
    expect(await sh(['ip', '-6', '-n', ns, 'route', 'show', 'proto', '83'])).toMatch(/default via fe80::1 dev ext/);
    expect(await sh(['ip', '-6', '-n', h.ns, 'addr', 'show', 'scope', 'link'])).toContain('inet6 fe80::1/64 scope link');
    expect(await sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'table', 'ip6', 'strata'])).toContain('iifname "ext" ip6 daddr 2001:db8:176::/64 accept');
    expect((await sh(['ip', 'netns', 'exec', h.ns, 'sysctl', '-n', 'net.ipv6.conf.all.forwarding'])).trim()).toBe('1');
  });

  it('repairs drift: flushed domain tables and deleted routes come back', async () => {
    const ns = await domainNs();
    await sh(['ip', 'netns', 'exec', ns, 'nft', 'delete', 'table', 'ip', 'strata']);
    await sh(['ip', '-n', h.ns, 'route', 'del', '203.0.113.10/32']);
    await sh(['ip', '-6', '-n', h.ns, 'route', 'del', '2001:db8:176::/64']);
    await sh(['ip', 'netns', 'exec', ns, 'nft', 'delete', 'table', 'ip6', 'strata']);
    const { plan } = await h.dataplane.plan(natView());
    expect(plan.batches.map((b) => b.phase)).toEqual(['routes', 'ns-nft']);
    await h.dataplane.reconcile(natView());
    expect((await h.dataplane.plan(natView())).plan).toEqual({ batches: [] });
  });

  it('without NAT, routed networks or announced prefixes, leaves nothing of them behind', async () => {
    const plain = hostView(cloud, 'hv1');
    await h.dataplane.reconcile(plain);
    expect((await h.dataplane.plan(plain)).plan).toEqual({ batches: [] });
    expect(await sh(['ip', '-n', h.ns, 'route', 'show', 'proto', '83'])).toBe('');
    expect(await sh(['ip', '-6', '-n', h.ns, 'route', 'show', 'proto', '83'])).toBe('');
    expect(await sh(['ip', '-n', h.ns, 'link', 'show', 'type', 'veth'])).not.toMatch(/sx[0-9a-f]{12}/);
    expect((await shOk(['ip', 'netns', 'exec', h.ns, 'nft', 'list', 'table', 'ip', 'strata']))).toBe(false);
  });
});
