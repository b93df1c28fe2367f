/**
 * A tenant segment extended to an OVSDB hardware_vtep switch, with real
 * packets and the real data plane: the lab's three hypervisors with their
 * agents and VMs, the vtep controller (services/vtep), and Debian's ovs-vtep
 * emulator as the "hardware" switch on the underlay (services/vtep/src/testing:
 * Open vSwitch's userspace datapath, since this kernel has no openvswitch
 * module), with a bare-metal server on VLAN 10 of its port (the server tags
 * with an OVS of its own: this kernel has no 802.1Q).
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
import { startEmulatedSwitch, startVlanServer, type EmulatedSwitch, type OvsdbServer } from '@strata/vtep/testing';
import { tenantWithRouter, vmOn, type TenantSetup } from '../overlay/scenario.js';

const SWITCH_VTEP = '198.18.0.60';
const SERVER_MAC = '52:54:00:cc:00:01';
const SERVER_IP = '10.0.0.210';

const d = describeIf(kernel(['ovs-vswitchd', '--version'], ['vtep-ctl', '--version'], ['ethtool', '--version']));

d('OVSDB hardware_vtep: the ovs-vtep emulator as the switch, three hypervisors with agents', () => {
  let lab: Lab;
  let t: TenantSetup;
  let net: NetworkView;
  let dir: string;
  let sw: EmulatedSwitch;
  let serverDb: OvsdbServer;
  let bm: Netns;
  let deviceId: string;
  let bindingId: string;
  const vms: Vm[] = [];

  const hostFdb = async (hostId: string): Promise<string> => sh(['bridge', '-n', lab.host(hostId).ns.name, 'fdb', 'show', 'dev', `svx${net.vni}`]).catch(() => '');
  const serverPing = (ip: string): Promise<boolean> => succeeds(['ip', 'netns', 'exec', bm.name, 'ping', '-c', '1', '-W', '2', ip]);

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 3, vtep: true });
    for (const h of lab.hosts) await sh(['ip', 'netns', 'exec', h.ns.name, 'ethtool', '-K', 'eth0', 'tx', 'off']);
    t = await tenantWithRouter(lab, 'tenant-a');
    net = t.nets[0]!;
    // The server is no member of the VMs' groups: their group admits it by address (ICMP, the test's traffic).
    const metal = await lab.secgroup.command('group.create', { name: 'metal', description: '' }, t.who);
    await lab.secgroup.command('rule.create', { groupId: metal.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remoteCidr: `${SERVER_IP}/32` }, t.who);
    await lab.secgroup.command('rule.create', { groupId: metal.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remoteGroupId: metal.id }, t.who);
    await lab.secgroup.command('rule.create', { groupId: metal.id, direction: 'egress', ethertype: 'IPv4', protocol: 'any' }, t.who);
    for (const [i, h] of ['hv1', 'hv2', 'hv3'].entries()) {
      const v = await vmOn(lab, t, `v${i + 1}`, 0, h);
      await lab.secgroup.command('port.setGroups', { portId: v.port.id, groupIds: [metal.id] }, t.who);
      vms.push(v);
    }
    // The switch on the underlay (its tunnel IP is owned by its own OVS bridge), the server on its port p0.
    const swNs = await Netns.create(`${lab.prefix}ovs`);
    bm = await Netns.create(`${lab.prefix}bm`);
    await lab.fabric.ip(['link', 'add', 'ovs', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', swNs.name]);
    await lab.fabric.ip(['link', 'set', 'ovs', 'master', 'ul0', 'up']);
    await sh(['ip', 'link', 'add', 'p0', 'netns', swNs.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', bm.name]);
    for (const [ns, dev] of [[swNs, 'eth0'], [swNs, 'p0'], [bm, 'eth0']] as const) await ns.ip(['link', 'set', dev, 'up']);
    dir = await mkdtemp(join(tmpdir(), `${lab.prefix}ovs-`));
    sw = await startEmulatedSwitch(dir, swNs.name, { name: 'br0', vtepIp: SWITCH_VTEP, underlayIf: 'eth0', ports: ['p0'] });
    serverDb = await startVlanServer(join(dir, 'bm'), bm.name, { wire: 'eth0', vlan: 10, address: `${SERVER_IP}/24`, mac: SERVER_MAC });
    const device = await lab.ipam.command(
      'gatewaydevice.create',
      { name: 'emulator', kind: 'ovsdb', vtepIp: SWITCH_VTEP, ovsdb: { target: sw.db.target }, ports: [{ name: 'p0', tenant: 'tenant-a' }] },
      ADMIN,
    );
    deviceId = device.id;
  }, 240_000);

  afterAll(async () => {
    // The namespaces' processes (ovs-vswitchd, ovs-vtep) go with the lab; the databases run outside them.
    await lab?.destroy();
    await sw?.db.stop().catch(() => undefined);
    await serverDb?.stop().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a tenant binds VLAN 10: the switch gets each VM behind its hypervisor, the hypervisors get the server behind the switch, and they ping each other', async () => {
    bindingId = (await lab.ipam.command('gatewaybinding.create', { deviceId, port: 'p0', vlan: 10, networkId: net.id }, t.who)).id;
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

  it('unbinding removes the segment from the switch and every trace of the server from the hypervisors', async () => {
    await lab.ipam.command('gatewaybinding.delete', { id: bindingId }, t.who);
    await eventually(async () => !(await sw.db.vtepCtl('list-ls')).split('\n').includes(`strata-${net.id}`), 'the logical switch gone', 240);
    for (const h of ['hv1', 'hv2', 'hv3']) await eventually(async () => !(await hostFdb(h)).includes(SWITCH_VTEP), `${h}: no entry via the switch`, 240);
    for (const v of vms) expect(await v.pingOnce(SERVER_IP)).toBe(false);
    // The VMs still reach each other: only the extension went.
    expect(await vms[0]!.pingOnce(vms[2]!.ip)).toBe(true);
  });
});
