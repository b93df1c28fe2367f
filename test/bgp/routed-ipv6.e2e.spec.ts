/**
 * An IPv6 routed network reached from outside, end to end: IPAM → event log
 * → BGP gateway → gobgpd → FRR border (MP-BGP IPv6 unicast over the IPv4
 * session; kernel route via the hypervisor's underlay IPv6 address) and →
 * hostview → agent (the hypervisor routes the subnet into the tenant
 * router's namespace over the external link's link-local ends; the guard
 * lets the routed subnet through, untranslated). The internet client behind
 * the border pings the VM over IPv6 and talks TCP with it, in both
 * directions, and sees the VM's own address; security groups with IPv6
 * rules decide what reaches the VM. A non-routed IPv6 subnet of the same
 * router never leaves (without the guard's last rule the client counts its
 * packets: seen failing). Without the agent's IPv6 path, ping6 and TCP
 * time out (seen failing).
 *
 *   hv1, hv2: the tenant's router on both; the VM on hv2
 *   border: FRR, peers with the gateway's gobgpd (198.18.0.2)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NetworkView, PortView, SubnetView } from '@strata/contracts';
import { eventually, GATEWAY_UNDERLAY_IP, INTERNET_CLIENT_IP6, Lab, sh, underlay6, type ManagedProcess, type Vm } from '@strata/lab';
import { describeIf, kernel } from '@strata/testing/suites';
import { tenantWithRouter, type TenantSetup } from '../overlay/scenario.js';
import { whoami, whoamiEventually, whoamiServer } from '../support/whoami.js';

const d = describeIf(kernel(['nft', '--version'], ['gobgpd', '--version'], ['/usr/lib/frr/bgpd', '--version']));

const SUBNET = '2001:db8:600::/64';
const VM_IP = '2001:db8:600::10';
const VM_PORT = 8080;
const CLIENT_PORT = 8082;
const CLOSED_PORT = 8081;

d('an IPv6 routed network reached from the internet through BGP-learned routes at the border', () => {
  let lab: Lab;
  let t: TenantSetup;
  let net: NetworkView;
  let subnet: SubnetView;
  let port: PortView;
  let vm: Vm;
  const servers: ManagedProcess[] = [];
  const border = (): string => lab.external!.border.name;
  const client = (): string => lab.external!.client.name;
  const borderRoute6 = async (prefix: string): Promise<string> => (await sh(['ip', '-n', border(), '-6', 'route', 'show', prefix])).trim();

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 2, external: true, bgp: true });
    t = await tenantWithRouter(lab, 'tenant-a');
    await lab.ipam.command('pool.create', { name: 'routed6', cidr: '2001:db8:600::/48', purpose: 'routed' });
    net = await lab.ipam.command('network.create', { name: 'public6', routed: true }, t.who);
    subnet = await lab.ipam.command('subnet.create', { networkId: net.id, cidr: SUBNET }, t.who);
    await lab.ipam.command('router.addInterface', { id: t.routerId, subnetId: subnet.id }, t.who);
    // IPv6 rules only: what the outside may reach (tcp/8080, ICMPv6) and everything out.
    const group = await lab.secgroup.command('group.create', { name: 'public6', description: '' }, t.who);
    await lab.secgroup.command('rule.create', { groupId: group.id, direction: 'ingress', ethertype: 'IPv6', protocol: 'tcp', portMin: VM_PORT, portMax: VM_PORT, remoteCidr: '::/0' }, t.who);
    await lab.secgroup.command('rule.create', { groupId: group.id, direction: 'ingress', ethertype: 'IPv6', protocol: 'icmpv6', remoteCidr: '::/0' }, t.who);
    await lab.secgroup.command('rule.create', { groupId: group.id, direction: 'egress', ethertype: 'IPv6', protocol: 'any' }, t.who);
    port = await lab.ipam.command('port.create', { networkId: net.id, name: 'web6', hostId: 'hv2', fixedIps: [{ subnetId: subnet.id, ip: VM_IP }] }, t.who);
    await lab.secgroup.command('port.setGroups', { portId: port.id, groupIds: [group.id] }, t.who);
    vm = await lab.addVm('web6', port, 'hv2');
    await vm.configureStatic({ [subnet.id]: { prefixLength: 64, gatewayIp: subnet.gatewayIp, mtu: net.mtu } });
    servers.push(await whoamiServer(vm.ns.name, [VM_PORT, CLOSED_PORT], 6));
    servers.push(await whoamiServer(client(), [CLIENT_PORT], 6));
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop(2_000)));
    await lab?.destroy();
  });

  it("the border learns the subnet and the VM's /128 over the IPv4 session, via hv2's underlay IPv6 address, into its kernel", async () => {
    await eventually(async () => (await lab.bgp!.frr.sessionState(GATEWAY_UNDERLAY_IP)) === 'Established', 'border session with the gateway', 120);
    const hv2 = underlay6(lab.host('hv2').vtepIp);
    await eventually(async () => (await borderRoute6(VM_IP)).includes(`via ${hv2}`), 'the /128 in the border kernel via hv2', 120);
    expect(await borderRoute6(VM_IP)).toContain('proto bgp');
    expect(await borderRoute6(SUBNET)).toContain(`via ${hv2}`);
    const rib = JSON.parse(await lab.external!.border.exec(['vtysh', '--vty_socket', lab.bgp!.frr.dir, '-c', `show bgp ipv6 unicast ${VM_IP}/128 json`])) as { paths: { nexthops: { ip: string }[] }[] };
    expect(rib.paths.flatMap((p) => p.nexthops.map((n) => n.ip))).toContain(hv2);
  });

  it('the client pings the VM over IPv6 and the replies come back', async () => {
    await eventually(() => lab.external!.client.ok(['ping', '-6', '-c', '1', '-W', '1', VM_IP], 5_000), 'ping6 client → VM', 60, 250);
    const out = await lab.external!.client.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '1', VM_IP]);
    expect(out).toContain('3 received');
  });

  it("TCP both ways over IPv6, untranslated: the VM sees the client's address and the client the VM's; the group decides what gets in", async () => {
    expect(await whoamiEventually(client(), VM_IP, VM_PORT)).toBe(INTERNET_CLIENT_IP6);
    expect(await whoamiEventually(vm.ns.name, INTERNET_CLIENT_IP6, CLIENT_PORT)).toBe(VM_IP);
    // Listening, but not admitted by the VM's security group.
    expect(await whoami(client(), VM_IP, CLOSED_PORT)).toBeNull();
  });

  it("a non-routed IPv6 subnet of the same router never leaves through the external link: the client sees none of its packets", async () => {
    const PRIVATE = '2001:db8:700::/64';
    const privNet = await lab.ipam.command('network.create', { name: 'private6' }, t.who);
    const privSubnet = await lab.ipam.command('subnet.create', { networkId: privNet.id, cidr: PRIVATE }, t.who);
    await lab.ipam.command('router.addInterface', { id: t.routerId, subnetId: privSubnet.id }, t.who);
    const privPort = await lab.ipam.command('port.create', { networkId: privNet.id, name: 'priv6', hostId: 'hv2', fixedIps: [{ subnetId: privSubnet.id, ip: '2001:db8:700::10' }] }, t.who);
    const priv = await lab.addVm('priv6', privPort, 'hv2');
    await priv.configureStatic({ [privSubnet.id]: { prefixLength: 64, gatewayIp: privSubnet.gatewayIp, mtu: privNet.mtu } });
    // Count, at the client, every packet from the private subnet (the client's namespace is the lab's own).
    const probe = ['table ip6 probe {', '  counter seen {}', '  chain in {', '    type filter hook prerouting priority -300;', `    ip6 saddr ${PRIVATE} counter name seen;`, '  }', '}', ''];
    await lab.external!.client.exec(['nft', '-f', '-'], { input: probe.join('\n') });
    // The router routes it (the routed VM answers), but nothing of it crosses to the fabric untranslated.
    await priv.pingEventually(VM_IP);
    for (let i = 0; i < 5; i++) expect(await priv.pingOnce(INTERNET_CLIENT_IP6)).toBe(false);
    expect(await lab.external!.client.exec(['nft', 'list', 'counter', 'ip6', 'probe', 'seen'])).toMatch(/packets 0 bytes 0/);
  });

  it('the port goes: the border forgets the network and the client gets nowhere', async () => {
    await lab.ipam.command('port.delete', { id: port.id }, t.who);
    await eventually(async () => (await borderRoute6(VM_IP)) === '' && (await borderRoute6(SUBNET)) === '', 'IPv6 routes withdrawn at the border', 120);
    expect(await whoami(client(), VM_IP, VM_PORT)).toBeNull();
  });
});
