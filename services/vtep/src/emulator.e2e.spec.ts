/**
 * Real packets through Debian's ovs-vtep emulator driven by the vtep
 * controller: a bare-metal server on VLAN 10 of the switch's port and a VM
 * behind a hypervisor's VXLAN device ping each other in one subnet; the
 * server's MAC, learned by the switch, is recorded as a vtep event and
 * reaches the hypervisor's host view (hostview) as a RemoteEndpoint behind
 * the switch's VTEP, with the switch in the network's flood list; after
 * unbinding, the switch carries the segment no more and the host view
 * forgets it.
 *
 * The hypervisor is a namespace with what the agent would program for the
 * VM's network — a VXLAN device with the VM's address and MAC, and the
 * switch's VTEP in its flood list — created `noudpcsum`: the emulator's
 * userspace datapath drops VXLAN packets whose UDP checksum the sender
 * left to offload over a veth (docs/architecture.md, "OVSDB hardware_vtep").
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { hostviewBucket, hostviewKey } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { deleteAll, guardNamespaces, Netns, startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { ovs, startEmulatedSwitch, startVlanServer, type EmulatedSwitch } from './testing/emulator.js';
import type { OvsdbServer } from './testing/ovsdb-server.js';
import { ADMIN, eventsOf, IpamClient, startHostview, startIpam, startVtep } from './test/support.js';

const tenantA = { tenant: 'tenant-a', admin: false };
const SWITCH_VTEP = '198.18.0.40';
const HV_VTEP = '198.18.0.11';
const SERVER_MAC = '02:00:00:00:0b:01';
const SERVER_IP = '10.1.0.200';

describe('the ovs-vtep emulator driven by the vtep controller', () => {
  const prefix = `st${randomBytes(3).toString('hex')}-`;
  const forget = guardNamespaces(prefix, prefix);
  let dir: string;
  let sw: EmulatedSwitch;
  let server: OvsdbServer;
  let hv: Netns;
  let bm: Netns;
  let nats: StrataNats;
  let ipam: ManagedProcess;
  let vtep: ManagedProcess;
  let hostview: ManagedProcess;
  let client: IpamClient;
  let nc: NatsConnection;
  let admin: NatsConnection;
  let store: JetStreamEventStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-vtep-emu-'));
    const swNs = await Netns.create(`${prefix}sw`);
    hv = await Netns.create(`${prefix}hv`);
    bm = await Netns.create(`${prefix}bm`);
    await ovs(dir, undefined, ['ip', 'link', 'add', 'u0', 'netns', swNs.name, 'type', 'veth', 'peer', 'name', 'u1', 'netns', hv.name]);
    await ovs(dir, undefined, ['ip', 'link', 'add', 'p0', 'netns', swNs.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', bm.name]);
    for (const [ns, dev] of [[swNs, 'u0'], [swNs, 'p0'], [hv, 'u1'], [bm, 'eth0']] as const) await ns.ip(['link', 'set', dev, 'up']);
    await hv.ip(['addr', 'add', `${HV_VTEP}/24`, 'dev', 'u1']);
    sw = await startEmulatedSwitch(join(dir), swNs.name, { name: 'br0', vtepIp: SWITCH_VTEP, underlayIf: 'u0', ports: ['p0'] });
    server = await startVlanServer(join(dir, 'bm'), bm.name, { wire: 'eth0', vlan: 10, address: `${SERVER_IP}/24`, mac: SERVER_MAC });

    nats = await startProvisionedNats({ agents: ['hv1'] });
    ipam = startIpam(nats.url, nats.env('ipam'));
    vtep = startVtep(nats.url, nats.env('vtep'));
    hostview = startHostview(nats.url, nats.env('hostview'));
    await Promise.all([ipam.ready, vtep.ready, hostview.ready]);
    client = new IpamClient(await nats.connect('api'));
    nc = await nats.connect('api');
    admin = await nats.connect('admin');
    store = await JetStreamEventStore.open(nc);
  });

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await admin?.close();
    await vtep?.stop();
    await hostview?.stop();
    await ipam?.stop();
    await nats?.stop();
    // Every OVS process but the switch's database server runs in the namespaces.
    await deleteAll(prefix);
    forget();
    await sw?.db.stop();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A key of hv1's host view as hostview wrote it (parsed), or undefined (read as the operator: only hv1's agent and hostview may otherwise). */
  const hostKey = async (key: string): Promise<any> => {
    const kv = await admin.jetstream().views.kv(hostviewBucket('hv1'), { bindOnly: true });
    const e = await kv.get(key);
    return e && e.operation === 'PUT' ? e.json() : undefined;
  };
  const ping = (ns: Netns, ip: string) => ns.ok(['ping', '-c', '1', '-W', '1', ip], 5_000);

  it('carries a VLAN-10 server and a VM in one subnet, records the server\u2019s MAC, and stops carrying them once unbound', async () => {
    const hostPool = await client.command('pool.create', { name: 'h', cidr: '203.0.113.0/24', purpose: 'host-ip' }, ADMIN);
    await client.command('hypervisor.register', { id: 'hv1', vtepIp: HV_VTEP, hostPoolId: hostPool.id }, ADMIN);
    const net = await client.command('network.create', { name: 'n' }, tenantA);
    await client.command('subnet.create', { networkId: net.id, cidr: '10.1.0.0/24' }, tenantA);
    const vm = await client.command('port.create', { networkId: net.id, hostId: 'hv1' }, tenantA);
    const vmIp = vm.fixedIps[0]?.ip as string;
    const device = await client.command(
      'gatewaydevice.create',
      { name: 'emulator', kind: 'ovsdb', vtepIp: SWITCH_VTEP, ovsdb: { target: sw.db.target }, ports: [{ name: 'p0', tenant: 'tenant-a' }] },
      ADMIN,
    );
    const binding = await client.command('gatewaybinding.create', { deviceId: device.id, port: 'p0', vlan: 10, networkId: net.id }, tenantA);

    // The VM's side, as the agent programs a network: VXLAN with the VM's MAC and address, the switch in the flood list.
    await hv.ip(['link', 'add', 'vx0', 'type', 'vxlan', 'id', String(binding.vni), 'local', HV_VTEP, 'dstport', '4789', 'nolearning', 'noudpcsum']);
    await hv.ip(['link', 'set', 'vx0', 'address', vm.mac]);
    await hv.ip(['addr', 'add', `${vmIp}/24`, 'dev', 'vx0']);
    await hv.ip(['link', 'set', 'vx0', 'up']);
    await hv.exec(['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', SWITCH_VTEP]);

    // The emulator builds its tunnel once the controller has written the remote MAC and flood set.
    await waitFor(() => ping(bm, vmIp), { timeoutMs: 60_000, intervalMs: 250, message: `server ${SERVER_IP} → VM ${vmIp} through the emulator` });
    expect(await ping(hv, SERVER_IP)).toBe(true);
    // Encapsulated toward the hypervisor with the segment's VNI: the emulator's tunnel port is the controller's.
    expect(await ovs(dir, undefined, ['ovs-vsctl', 'find', 'Interface', 'type=vxlan', `options:key=${binding.vni}`, `options:remote_ip=${HV_VTEP}`])).toContain('vxlan');

    const learned = await waitFor(
      async () => (await eventsOf(store, `strata.evt.vtep.device.${device.id}`)).find((e) => e.type === 'vtep.PhysicalMacLearned'),
      { timeoutMs: 30_000, intervalMs: 100, message: 'the server MAC recorded' },
    );
    expect(learned?.data).toEqual({ deviceId: device.id, vni: binding.vni, mac: SERVER_MAC, vtep: SWITCH_VTEP });
    // What the hypervisor's agent would program: the server's MAC behind the switch, the switch in the flood list.
    const epKey = hostviewKey.ep('hv1', `phys-${device.id}-${binding.vni}-${SERVER_MAC.replaceAll(':', '')}`);
    const ep = await waitFor(() => hostKey(epKey), { timeoutMs: 30_000, intervalMs: 100, message: `${epKey} in hv1's host view` });
    expect(ep).toMatchObject({ networkId: net.id, mac: SERVER_MAC, vtep: SWITCH_VTEP });
    await waitFor(async () => (await hostKey(hostviewKey.net('hv1', net.id)))?.floodVteps?.includes(SWITCH_VTEP), { timeoutMs: 30_000, intervalMs: 100, message: 'the switch in hv1\u2019s flood list' });

    // Unbound: the emulator tears its logical switch down and the segment no longer reaches the VLAN.
    await client.command('gatewaybinding.delete', { id: binding.id }, tenantA);
    await waitFor(async () => !(await ovs(dir, undefined, ['ovs-vsctl', 'list-br'])).includes('br0_vtep_ls'), { timeoutMs: 30_000, intervalMs: 250, message: 'the emulator\u2019s logical switch gone' });
    expect(await ping(bm, vmIp)).toBe(false);
    await waitFor(async () => (await hostKey(epKey)) === undefined, { timeoutMs: 30_000, intervalMs: 100, message: `${epKey} gone from hv1's host view` });
    expect((await hostKey(hostviewKey.net('hv1', net.id)))?.floodVteps ?? []).not.toContain(SWITCH_VTEP);
  });
});
