/**
 * Debian's ovs-vtep emulator as the "hardware" switch (docs/architecture.md,
 * "OVSDB hardware_vtep"): ovs-vswitchd with the userspace datapath (this
 * kernel has no openvswitch module) and ovs-vtep inside the switch's
 * namespace, both on the test's ovsdb-server (its unix socket: sockets on
 * the file system cross namespaces). The switch's tunnel IP is owned by a
 * second netdev bridge whose port is the underlay veth, so ovs-vswitchd's
 * userspace tunnels route and ARP through it.
 *
 * The kernel has no VLAN devices either (no 8021q, no VLAN-filtering
 * bridge, no tc vlan action), so a bare-metal server tags its frames with
 * an OVS of its own: an internal port with `tag=<vlan>` on a netdev bridge
 * whose other port is its wire to the switch.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startOvsdbServer, type OvsdbServer } from './ovsdb-server.js';

const exec = promisify(execFile);

/** Run an Open vSwitch tool (in `ns`, if given) against the server whose files are in `dir`. */
export async function ovs(dir: string, ns: string | undefined, argv: string[]): Promise<string> {
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const full = ns === undefined ? argv : ['ip', 'netns', 'exec', ns, ...argv];
  return (await exec(full[0] as string, full.slice(1), { env, timeout: 30_000 })).stdout.trim();
}

/** ovs-vswitchd in `ns` on the server in `dir` (its files there too). */
async function startVswitchd(dir: string, ns: string): Promise<void> {
  await ovs(dir, undefined, ['ovs-vsctl', '--no-wait', 'init']);
  await ovs(dir, ns, [
    'ovs-vswitchd',
    `unix:${join(dir, 'db.sock')}`,
    `--pidfile=${join(dir, 'ovs-vswitchd.pid')}`,
    `--log-file=${join(dir, 'ovs-vswitchd.log')}`,
    `--unixctl=${join(dir, 'ovs-vswitchd.ctl')}`,
    '--detach',
    '--no-chdir',
  ]);
}

export interface EmulatedSwitch {
  db: OvsdbServer;
  dir: string;
  /** The physical switch's name in the vtep database (and its OVS bridge). */
  name: string;
}

/**
 * The switch in namespace `ns`: physical switch `name` with tunnel IP
 * `vtepIp/24` on `underlayIf` and physical ports `ports` (interfaces already
 * in `ns`). The database server runs in the root namespace on loopback:
 * the controller reaches it at `db.target`.
 */
export async function startEmulatedSwitch(dir: string, ns: string, o: { name: string; vtepIp: string; underlayIf: string; ports: string[] }): Promise<EmulatedSwitch> {
  const db = await startOvsdbServer(dir, { vswitch: true });
  await startVswitchd(dir, ns);
  const vsctl = (...args: string[]) => ovs(dir, undefined, ['ovs-vsctl', ...args]);
  await vsctl('add-br', o.name, '--', 'set', 'Bridge', o.name, 'datapath_type=netdev', ...o.ports.flatMap((p) => ['--', 'add-port', o.name, p]));
  await vsctl('add-br', 'bru', '--', 'set', 'Bridge', 'bru', 'datapath_type=netdev', '--', 'add-port', 'bru', o.underlayIf);
  await ovs(dir, undefined, ['ip', '-n', ns, 'addr', 'add', `${o.vtepIp}/24`, 'dev', 'bru']);
  await ovs(dir, undefined, ['ip', '-n', ns, 'link', 'set', 'bru', 'up']);
  await db.vtepCtl('add-ps', o.name);
  await db.vtepCtl('set', 'Physical_Switch', o.name, `tunnel_ips=${o.vtepIp}`);
  for (const p of o.ports) await db.vtepCtl('add-port', o.name, p);
  await ovs(dir, ns, [
    '/usr/share/openvswitch/scripts/ovs-vtep',
    `--log-file=${join(dir, 'ovs-vtep.log')}`,
    `--pidfile=${join(dir, 'ovs-vtep.pid')}`,
    '--detach',
    '--no-chdir',
    o.name,
  ]);
  return { db, dir, name: o.name };
}

/** A bare-metal server in `ns` on VLAN `vlan` of its interface `wire`: `address` (CIDR) and `mac` on a tagged internal port. */
export async function startVlanServer(dir: string, ns: string, o: { wire: string; vlan: number; address: string; mac: string }): Promise<OvsdbServer> {
  await mkdir(dir, { recursive: true });
  const db = await startOvsdbServer(dir, { vswitch: true, netns: ns });
  await startVswitchd(dir, ns);
  await ovs(dir, undefined, ['ovs-vsctl', 'add-br', 'srvbr', '--', 'set', 'Bridge', 'srvbr', 'datapath_type=netdev', '--', 'add-port', 'srvbr', o.wire, '--', 'add-port', 'srvbr', 'srv', `tag=${o.vlan}`, '--', 'set', 'Interface', 'srv', 'type=internal']);
  await ovs(dir, undefined, ['ip', '-n', ns, 'link', 'set', 'srv', 'address', o.mac]);
  await ovs(dir, undefined, ['ip', '-n', ns, 'addr', 'add', o.address, 'dev', 'srv']);
  await ovs(dir, undefined, ['ip', '-n', ns, 'link', 'set', 'srv', 'up']);
  return db;
}

/**
 * An access switch in `ns` (its own userspace OVS, files in `dir`): the trunk
 * `trunk` carries each access port's frames tagged with its VLAN, the access
 * ports are untagged (plain servers plug into them). It puts several VLANs
 * on one port of the emulated switch on a kernel without 802.1Q.
 */
export async function startAccessSwitch(dir: string, ns: string, o: { trunk: string; access: { port: string; vlan: number }[] }): Promise<OvsdbServer> {
  await mkdir(dir, { recursive: true });
  const db = await startOvsdbServer(dir, { vswitch: true, netns: ns });
  await startVswitchd(dir, ns);
  const access = o.access.flatMap((a) => ['--', 'add-port', 'acc', a.port, `tag=${a.vlan}`]);
  await ovs(dir, undefined, ['ovs-vsctl', 'add-br', 'acc', '--', 'set', 'Bridge', 'acc', 'datapath_type=netdev', '--', 'add-port', 'acc', o.trunk, ...access]);
  return db;
}
