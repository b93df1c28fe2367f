/**
 * A tenant segment extended to an OVSDB hardware_vtep switch, with real
 * packets and the real data plane: the lab's three hypervisors with their
 * agents and VMs, the vtep controller (services/vtep), and Debian's ovs-vtep
 * emulator as the "hardware" switch on the underlay (services/vtep/src/testing:
 * Open vSwitch's userspace datapath, since this kernel has no openvswitch
 * module). Its port p0 is a trunk from an access switch (another userspace
 * OVS: this kernel has no 802.1Q) with a bare-metal server of tenant A on
 * VLAN 10 and one of tenant B, with the same address, on VLAN 20.
 *
 *   IPAM: an `ovsdb` gateway device and a binding of the network
 *   → vtep controller: a logical switch (tunnel key = VNI), the port's VLAN
 *     binding, a remote MAC per VM behind its hypervisor, the hypervisors as
 *     the flood set; the switch's local MACs recorded as vtep.PhysicalMac*
 *   → hostview: the server as a RemoteEndpoint behind the switch's VTEP, the
 *     switch in the flood list → agents: FDB + neighbour entries
 *
 * One setting is the lab's, not Strata's: the hypervisors' underlay veths
 * compute UDP checksums themselves (`ethtool -K eth0 tx off`). A veth hands
 * a VXLAN packet on with its UDP checksum left to offload, and the
 * emulator's userspace datapath drops a tunnel packet whose checksum does
 * not verify (docs/architecture.md, "OVSDB hardware_vtep"); a physical NIC
 * completes the checksum on the wire.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NetworkView } from '@strata/contracts';
import { ADMIN, eventually, Lab, Netns, sh, succeeds, type Vm } from '@strata/lab';
import { describeIf, kernel } from '@strata/testing/suites';
import { startAccessSwitch, startEmulatedSwitch, type EmulatedSwitch, type OvsdbServer } from '@strata/vtep/testing';
import { tenantWithRouter, vmOn, type TenantSetup } from '../overlay/scenario.js';
import { expectEachTenantReachesItsOwnServer } from '../support/same-address-servers.js';

const SWITCH_VTEP = '198.18.0.60';
const SERVER_MAC = '52:54:00:cc:00:01';
const SERVER_IP = '10.0.0.210';
const SERVER_B_MAC = '52:54:00:cc:00:02';

const d = describeIf(kernel(['ovs-vswitchd', '--version'], ['vtep-ctl', '--version'], ['ethtool', '--version']));

d('OVSDB hardware_vtep: the ovs-vtep emulator as the switch, three hypervisors with agents', () => {
  let lab: Lab;
  let t: TenantSetup;
  let net: NetworkView;
  let dir: string;
  let sw: EmulatedSwitch;
  let accessDb: OvsdbServer;
  let bm: Netns;
  let bmB: Netns;
  let deviceId: string;
  let bindingId: string;
  const vms: Vm[] = [];

  const hostFdb = async (hostId: string): Promise<string> => sh(['bridge', '-n', lab.host(hostId).ns.name, 'fdb', 'show', 'dev', `svx${net.vni}`]).catch(() => '');
  const serverPing = (ip: string, ns = bm): Promise<boolean> => succeeds(['ip', 'netns', 'exec', ns.name, 'ping', '-c', '1', '-W', '2', ip]);
  /** A tenant's group for its VMs: ICMP from the server's address and from each other. */
  const metalGroup = async (who: TenantSetup['who']): Promise<string> => {
    const g = await lab.secgroup.command('group.create', { name: 'metal', description: '' }, who);
    await lab.secgroup.command('rule.create', { groupId: g.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remoteCidr: `${SERVER_IP}/32` }, who);
    await lab.secgroup.command('rule.create', { groupId: g.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remoteGroupId: g.id }, who);
    await lab.secgroup.command('rule.create', { groupId: g.id, direction: 'egress', ethertype: 'IPv4', protocol: 'any' }, who);
    return g.id;
  };

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 3, vtep: true });
    for (const h of lab.hosts) await sh(['ip', 'netns', 'exec', h.ns.name, 'ethtool', '-K', 'eth0', 'tx', 'off']);
    t = await tenantWithRouter(lab, 'tenant-a');
    net = t.nets[0]!;
    // The servers are no members of the VMs' groups: the groups admit them by address.
    const metal = await metalGroup(t.who);
    for (const [i, h] of ['hv1', 'hv2', 'hv3'].entries()) {
      const v = await vmOn(lab, t, `v${i + 1}`, 0, h);
      await lab.secgroup.command('port.setGroups', { portId: v.port.id, groupIds: [metal] }, t.who);
      vms.push(v);
    }
    // The switch on the underlay (its tunnel IP is owned by its own OVS bridge); its port p0 is the access switch's trunk.
    const swNs = await Netns.create(`${lab.prefix}ovs`);
    const agg = await Netns.create(`${lab.prefix}acc`);
    bm = await Netns.create(`${lab.prefix}bm`);
    bmB = await Netns.create(`${lab.prefix}bmb`);
    await lab.fabric.ip(['link', 'add', 'ovs', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', swNs.name]);
    await lab.fabric.ip(['link', 'set', 'ovs', 'master', 'ul0', 'up']);
    await sh(['ip', 'link', 'add', 'p0', 'netns', swNs.name, 'type', 'veth', 'peer', 'name', 'trunk', 'netns', agg.name]);
    for (const [server, port, mac] of [[bm, 'vl10', SERVER_MAC], [bmB, 'vl20', SERVER_B_MAC]] as const) {
      await sh(['ip', 'link', 'add', port, 'netns', agg.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', server.name]);
      await server.ip(['link', 'set', 'eth0', 'address', mac]);
      await server.ip(['addr', 'add', `${SERVER_IP}/24`, 'dev', 'eth0']);
      await server.ip(['link', 'set', 'eth0', 'up']);
      await agg.ip(['link', 'set', port, 'up']);
    }
    for (const [ns, dev] of [[swNs, 'eth0'], [swNs, 'p0'], [agg, 'trunk']] as const) await ns.ip(['link', 'set', dev, 'up']);
    dir = await mkdtemp(join(tmpdir(), `${lab.prefix}ovs-`));
    sw = await startEmulatedSwitch(dir, swNs.name, { name: 'br0', vtepIp: SWITCH_VTEP, underlayIf: 'eth0', ports: ['p0'] });
    accessDb = await startAccessSwitch(join(dir, 'acc'), agg.name, { trunk: 'trunk', access: [{ port: 'vl10', vlan: 10 }, { port: 'vl20', vlan: 20 }] });
    const device = await lab.ipam.command(
      'gatewaydevice.create',
      { name: 'emulator', kind: 'ovsdb', vtepIp: SWITCH_VTEP, ovsdb: { target: sw.db.target }, ports: [{ name: 'p0', tenant: null }] },
      ADMIN,
    );
    deviceId = device.id;
  }, 240_000);

  afterAll(async () => {
    // The namespaces' processes (ovs-vswitchd, ovs-vtep) go with the lab; the databases run outside them.
    await lab?.destroy();
    await sw?.db.stop().catch(() => undefined);
    await accessDb?.stop().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('VLAN 10 bound to tenant A\'s network: the switch gets each VM behind its hypervisor, the hypervisors get the server behind the switch, and they ping each other', async () => {
    bindingId = (await lab.ipam.command('gatewaybinding.create', { deviceId, port: 'p0', vlan: 10, networkId: net.id }, ADMIN)).id;
    const ls = `strata-${net.id}`;
    await eventually(async () => {
      const macs = await sw.db.vtepCtl('list-remote-macs', ls).catch(() => '');
      return vms.every((v, i) => macs.includes(`${v.port.mac} -> vxlan_over_ipv4/${lab.host(`hv${i + 1}`).vtepIp}`));
    }, 'each VM behind its hypervisor in the switch database', 240);
    expect(await sw.db.vtepCtl('get', 'Logical_Switch', ls, 'tunnel_key')).toBe(String(net.vni));

    for (const v of vms) await eventually(() => serverPing(v.ip), `the server reaches ${v.ip} through the emulator`, 120);
    for (const [i, v] of vms.entries()) {
      await eventually(async () => (await hostFdb(`hv${i + 1}`)).includes(`${SERVER_MAC} dst ${SWITCH_VTEP}`), `hv${i + 1}: the server's MAC via the switch`, 240);
      expect(await hostFdb(`hv${i + 1}`)).toContain(`00:00:00:00:00:00 dst ${SWITCH_VTEP}`);
      await v.pingEventually(SERVER_IP);
    }
  }, 240_000);

  it('tenant B\'s network with the same addresses on VLAN 20 of the same port: each tenant reaches its own server only', async () => {
    const b = await tenantWithRouter(lab, 'tenant-b');
    const netB = b.nets[0]!;
    const metalB = await metalGroup(b.who);
    const vb = await vmOn(lab, b, 'vb', 0, 'hv2');
    await lab.secgroup.command('port.setGroups', { portId: vb.port.id, groupIds: [metalB] }, b.who);
    await lab.ipam.command('gatewaybinding.create', { deviceId, port: 'p0', vlan: 20, networkId: netB.id }, ADMIN);
    expect((await sw.db.vtepCtl('list-bindings', 'br0', 'p0')).split('\n').sort()).toEqual([`0010 strata-${net.id}`, `0020 strata-${netB.id}`]);
    await eventually(() => serverPing(vb.ip, bmB), `tenant B's server reaches ${vb.ip} on VLAN 20`, 120);
    await vb.pingEventually(SERVER_IP);

    await expectEachTenantReachesItsOwnServer({ ip: SERVER_IP, a: { vms, serverMac: SERVER_MAC }, b: { vm: vb, serverMac: SERVER_B_MAC, serverNs: bmB.name } });
    // Tenant A's hypervisors hold only tenant A's server; tenant B's VNI only tenant B's.
    expect(await hostFdb('hv1')).not.toContain(SERVER_B_MAC);
    expect(await sh(['bridge', '-n', lab.host('hv2').ns.name, 'fdb', 'show', 'dev', `svx${netB.vni}`])).toContain(`${SERVER_B_MAC} dst ${SWITCH_VTEP}`);
  }, 240_000);

  it('unbinding removes the segment from the switch and every trace of the server from the hypervisors', async () => {
    await lab.ipam.command('gatewaybinding.delete', { id: bindingId }, t.who);
    await eventually(async () => !(await sw.db.vtepCtl('list-ls')).split('\n').includes(`strata-${net.id}`), 'the logical switch gone', 240);
    for (const h of ['hv1', 'hv2', 'hv3']) await eventually(async () => !(await hostFdb(h)).includes(SWITCH_VTEP), `${h}: no entry via the switch`, 240);
    for (const v of vms) expect(await v.pingOnce(SERVER_IP)).toBe(false);
    // The VMs still reach each other: only the extension went.
    expect(await vms[0]!.pingOnce(vms[2]!.ip)).toBe(true);
  });
});
