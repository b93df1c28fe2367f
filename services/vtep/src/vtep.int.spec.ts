/**
 * The vtep controller against a real ovsdb-server holding the hardware_vtep
 * schema (the database a switch, or the ovs-vtep emulator, serves), driven
 * by real IPAM events: every table it writes is read back with vtep-ctl,
 * local MACs written into the database become vtep.* events, and what is
 * not its own (another logical switch, its bindings and MACs) stays.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { JetStreamEventStore, type StoredEvent } from '@strata/eventlog';
import { startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { desiredDevice } from './domain/desired.js';
import { applyStored } from './domain/evolve.js';
import { planDevice } from './domain/plan.js';
import { initialState } from './domain/state.js';
import { parseTarget } from './ovsdb/connection.js';
import { VtepSession } from './ovsdb/session.js';
import { vtepView } from './ovsdb/vtep-view.js';
import { startOvsdbServer, type OvsdbServer } from './testing/ovsdb-server.js';
import { ADMIN, eventsOf, IpamClient, startIpam, startVtep } from './test/support.js';

const tenantA = { tenant: 'tenant-a', admin: false };
const SWITCH_VTEP = '198.18.0.40';

/** What the database holds for one logical switch, as vtep-ctl prints it. */
async function lsContents(db: OvsdbServer, ls: string) {
  const lines = (await db.vtepCtl('list-remote-macs', ls)).split('\n');
  const split = lines.findIndex((l) => l.startsWith('mcast-mac-remote'));
  const entries = (part: string[]) => part.map((l) => /^\s+(\S+) -> vxlan_over_ipv4\/(\S+)$/.exec(l)).filter((m) => m !== null).map((m) => `${m[1]} ${m[2]}`).sort();
  return {
    tunnelKey: await db.vtepCtl('get', 'Logical_Switch', ls, 'tunnel_key'),
    ucast: entries(lines.slice(0, split)),
    flood: entries(lines.slice(split)),
  };
}

describe('the vtep controller against ovsdb-server (hardware_vtep)', () => {
  /** The switch's own setup, as its operator (or the emulator) does it: the controller never creates these. */
  async function setUpSwitch(): Promise<void> {
    await db.vtepCtl('add-ps', 'sw1');
    await db.vtepCtl('set', 'Physical_Switch', 'sw1', `tunnel_ips=${SWITCH_VTEP}`);
    await db.vtepCtl('add-port', 'sw1', 'p1');
    await db.vtepCtl('add-port', 'sw1', 'p2');
    // Another controller's logical switch with a binding on p1: must survive every pass.
    await db.vtepCtl('add-ls', 'other');
    await db.vtepCtl('set', 'Logical_Switch', 'other', 'tunnel_key=7777');
    await db.vtepCtl('bind-ls', 'sw1', 'p1', '99', 'other');
    await db.vtepCtl('add-ucast-remote', 'other', '02:00:00:00:77:77', '198.18.0.77');
  }

  let dir: string;
  let db: OvsdbServer;
  let nats: StrataNats;
  let ipam: ManagedProcess;
  let vtep: ManagedProcess;
  let client: IpamClient;
  let nc: NatsConnection;
  let store: JetStreamEventStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-vtep-'));
    db = await startOvsdbServer(dir);
    await setUpSwitch();

    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    vtep = startVtep(nats.url, nats.env('vtep'));
    await Promise.all([ipam.ready, vtep.ready]);
    client = new IpamClient(await nats.connect('api'));
    nc = await nats.connect('api');
    store = await JetStreamEventStore.open(nc);
  });

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await vtep?.stop();
    await ipam?.stop();
    await nats?.stop();
    await db?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const deviceEvents = async (deviceId: string): Promise<StoredEvent[]> => eventsOf(store, `strata.evt.vtep.device.${deviceId}`);
  /**
   * Converged: planning again — from the state a full replay of the log gives, against what the database holds
   * now (read by a session of our own) — writes nothing. The controller's passes are idempotent.
   */
  const planAgain = async (deviceId: string, vtepIp: string): Promise<unknown[]> => {
    let state = initialState();
    for await (const e of store.read({})) state = applyStored(state, e);
    const session = await VtepSession.open(parseTarget(db.target), { connectTimeoutMs: 5_000, requestTimeoutMs: 5_000, onChange: () => {}, onClose: () => {} });
    try {
      return planDevice(vtepView(session.replica), desiredDevice(state, deviceId), vtepIp).ops;
    } finally {
      session.close();
    }
  };
  const eventually = <T>(f: () => Promise<T | undefined | false>, message: string) => waitFor(f, { timeoutMs: 30_000, intervalMs: 100, message }) as Promise<T>;

  it('writes logical switches, bindings, remote MACs and flood sets; records local MACs; cleans up after itself', async () => {
    const hostPool = await client.command('pool.create', { name: 'h', cidr: '203.0.113.0/24', purpose: 'host-ip' }, ADMIN);
    await client.command('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.11', hostPoolId: hostPool.id }, ADMIN);
    await client.command('hypervisor.register', { id: 'hv2', vtepIp: '198.18.0.12', hostPoolId: hostPool.id }, ADMIN);
    const net = await client.command('network.create', { name: 'n' }, tenantA);
    await client.command('subnet.create', { networkId: net.id, cidr: '10.1.0.0/24' }, tenantA);
    const vm1 = await client.command('port.create', { networkId: net.id, hostId: 'hv1' }, tenantA);
    const vm2 = await client.command('port.create', { networkId: net.id, hostId: 'hv2' }, tenantA);
    const unbound = await client.command('port.create', { networkId: net.id }, tenantA);
    const device = await client.command(
      'gatewaydevice.create',
      { name: 'tor1', kind: 'ovsdb', vtepIp: SWITCH_VTEP, ovsdb: { target: db.target }, ports: [{ name: 'p1', tenant: 'tenant-a' }, { name: 'p2', tenant: null }] },
      ADMIN,
    );
    const binding = await client.command('gatewaybinding.create', { deviceId: device.id, port: 'p1', vlan: 10, networkId: net.id }, tenantA);
    const ls = `strata-${net.id}`;

    const want = {
      tunnelKey: String(binding.vni),
      ucast: [`${vm1.mac} 198.18.0.11`, `${vm2.mac} 198.18.0.12`].sort(),
      flood: ['unknown-dst 198.18.0.11', 'unknown-dst 198.18.0.12'],
    };
    await eventually(async () => JSON.stringify(await lsContents(db, ls).catch(() => null)) === JSON.stringify(want), 'the logical switch with its remote MACs and flood set');
    expect(await db.vtepCtl('list-bindings', 'sw1', 'p1')).toBe(`0010 ${ls}\n0099 other`);
    expect(await planAgain(device.id, SWITCH_VTEP)).toEqual([]);
    // The remote MAC carries the port's address; the port bound to no host is nowhere.
    expect(await db.vtepCtl('--columns=ipaddr', '--bare', 'find', 'Ucast_Macs_Remote', `MAC="${vm1.mac}"`)).toBe(vm1.fixedIps[0]?.ip);
    expect(await db.vtepCtl('--bare', '--columns=_uuid', 'find', 'Ucast_Macs_Remote', `MAC="${unbound.mac}"`)).toBe('');

    // Local MACs: one on our switch becomes an event, one on the other switch is ignored.
    await db.vtepCtl('add-ucast-local', 'other', '02:00:00:00:77:01', SWITCH_VTEP);
    await db.vtepCtl('add-ucast-local', ls, '02:00:00:00:0b:01', SWITCH_VTEP);
    await db.vtepCtl('add-mcast-local', ls, 'unknown-dst', SWITCH_VTEP);
    const learned = await eventually(async () => {
      const es = await deviceEvents(device.id);
      return es.length >= 2 && es;
    }, 'the learned MAC and VTEP');
    expect(learned.map((e) => [e.type, e.data])).toEqual([
      ['vtep.PhysicalMacLearned', { deviceId: device.id, vni: binding.vni, mac: '02:00:00:00:0b:01', vtep: SWITCH_VTEP }],
      ['vtep.PhysicalVtepLearned', { deviceId: device.id, vni: binding.vni, vtep: SWITCH_VTEP }],
    ]);

    // A port leaves: its MAC and (hv2's last port) its hypervisor's flood entry go.
    await client.command('port.delete', { id: vm2.id }, tenantA);
    await eventually(
      async () => JSON.stringify(await lsContents(db, ls)) === JSON.stringify({ ...want, ucast: [`${vm1.mac} 198.18.0.11`], flood: ['unknown-dst 198.18.0.11'] }),
      'vm2 gone from the switch',
    );

    // The binding moves to p2, VLAN 20.
    await client.command('gatewaybinding.move', { id: binding.id, deviceId: device.id, port: 'p2', vlan: 20 }, ADMIN);
    await eventually(async () => (await db.vtepCtl('list-bindings', 'sw1', 'p2')) === `0020 ${ls}`, 'the binding on p2');
    expect(await db.vtepCtl('list-bindings', 'sw1', 'p1')).toBe('0099 other');

    // The local MAC goes: withdrawn.
    await db.vtepCtl('del-ucast-local', ls, '02:00:00:00:0b:01');
    await eventually(async () => (await deviceEvents(device.id)).at(-1)?.type === 'vtep.PhysicalMacWithdrawn', 'the MAC withdrawn');

    // Unbinding removes every trace of the network on the switch and in the learned state; the other switch stays.
    await client.command('gatewaybinding.delete', { id: binding.id }, tenantA);
    await eventually(async () => !(await db.vtepCtl('list-ls')).split('\n').includes(ls), 'the logical switch deleted');
    expect(await db.vtepCtl('list-bindings', 'sw1', 'p2')).toBe('');
    expect(await db.vtepCtl('list-bindings', 'sw1', 'p1')).toBe('0099 other');
    expect(await db.vtepCtl('list-remote-macs', 'other')).toContain('02:00:00:00:77:77 -> vxlan_over_ipv4/198.18.0.77');
    expect(await db.vtepCtl('list-local-macs', 'other')).toContain('02:00:00:00:77:01');
    expect(await db.vtepCtl('--bare', '--columns=MAC', 'list', 'Ucast_Macs_Remote')).toBe('02:00:00:00:77:77');
    await eventually(async () => (await deviceEvents(device.id)).at(-1)?.type === 'vtep.PhysicalVtepWithdrawn', 'the flood VTEP withdrawn');
    expect(await planAgain(device.id, SWITCH_VTEP)).toEqual([]);
    const types = (await deviceEvents(device.id)).map((e) => e.type);
    expect(types).toEqual(['vtep.PhysicalMacLearned', 'vtep.PhysicalVtepLearned', 'vtep.PhysicalMacWithdrawn', 'vtep.PhysicalVtepWithdrawn']);
  });

  it('writes everything again after the switch lost its database, and withdraws what it no longer reports', async () => {
    const hostPool = await client.command('pool.create', { name: 'h2', cidr: '198.51.100.0/24', purpose: 'host-ip' }, ADMIN);
    await client.command('hypervisor.register', { id: 'hv3', vtepIp: '198.18.0.13', hostPoolId: hostPool.id }, ADMIN);
    const net = await client.command('network.create', { name: 'n2' }, tenantA);
    await client.command('subnet.create', { networkId: net.id, cidr: '10.2.0.0/24' }, tenantA);
    const vm = await client.command('port.create', { networkId: net.id, hostId: 'hv3' }, tenantA);
    const devices = await client.query('gatewaydevice.list', {}, ADMIN);
    const device = devices.items.find((d: { name: string }) => d.name === 'tor1') as { id: string };
    const binding = await client.command('gatewaybinding.create', { deviceId: device.id, port: 'p1', vlan: 30, networkId: net.id }, tenantA);
    const ls = `strata-${net.id}`;
    const want = JSON.stringify({ tunnelKey: String(binding.vni), ucast: [`${vm.mac} 198.18.0.13`], flood: ['unknown-dst 198.18.0.13'] });
    await eventually(async () => JSON.stringify(await lsContents(db, ls).catch(() => null)) === want, 'the second network on the switch');
    await db.vtepCtl('add-ucast-local', ls, '02:00:00:00:0c:01', SWITCH_VTEP);
    await eventually(async () => (await deviceEvents(device.id)).at(-1)?.type === 'vtep.PhysicalMacLearned', 'the MAC learned');

    // The switch reboots empty; its operator sets the physical switch up again; the controller reconnects and rewrites.
    await db.restartEmpty();
    await eventually(async () => (await deviceEvents(device.id)).at(-1)?.type === 'vtep.PhysicalMacWithdrawn', 'the MAC withdrawn with the lost database');
    await setUpSwitch();
    await eventually(async () => JSON.stringify(await lsContents(db, ls).catch(() => null)) === want, 'the network written again');
    expect(await db.vtepCtl('list-bindings', 'sw1', 'p1')).toBe(`0030 ${ls}\n0099 other`);
    expect(await planAgain(device.id, SWITCH_VTEP)).toEqual([]);
  });
});
