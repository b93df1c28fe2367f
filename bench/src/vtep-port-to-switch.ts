/**
 * OVSDB hardware_vtep: time from a port's creation to the switch's database
 * holding its MAC, p50/p99, against the same row written directly in the same run.
 *
 *   npm run -w @strata/bench vtep-port-to-switch            (PORTS=100 by default)
 *   QUICK=1 npm run -w @strata/bench vtep-port-to-switch    (PORTS=30; under 2 minutes)
 *
 * Real nats-server (production users), IPAM and vtep controller processes,
 * and a real ovsdb-server with the hardware_vtep schema as the switch's
 * database (physical switch sw1, port p1; network bound on VLAN 10). One at
 * a time, PORTS ports are created on hypervisor hv1:
 *
 *   port.create    the IPAM command's round trip
 *   in switch DB   port.create sent → a Ucast_Macs_Remote row with the
 *                  port's MAC and hv1's locator seen by a monitor of our own
 *                  (what a hardware switch programs its FDB from)
 *   direct         the baseline, right after each port: the bench's own
 *                  OVSDB session inserts the same kind of row (a new MAC,
 *                  hv1's locator) in one transaction, timed until the same
 *                  monitor sees it. It goes into a logical switch of the
 *                  bench's own (not named strata-…, so the controller leaves
 *                  it alone): the least any controller must do to put a MAC
 *                  in the switch's database, on the same server and monitor.
 *
 * Last line: port.create → in switch DB p50 ÷ direct transaction → seen p50.
 *
 * The ovs-vtep emulator adds its own polling (once a second) on top; a
 * hardware switch its own programming time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { IpamClient, startProcess, startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { ensureHarnessCommandKeys } from '@strata/runtime';
import { parseTarget, VtepSession, vtepView } from '@strata/vtep';
import { startOvsdbServer } from '@strata/vtep/testing';
import { QUICK, fmt, intEnv, log, machine, percentile, printRatio, table } from './support/common.js';

const PORTS = intEnv('PORTS', QUICK ? 30 : 100, 1, 5000);
// IPAM verifies the signed commands this process's client sends (the keys pass to it through the environment).
ensureHarnessCommandKeys();
const require = createRequire(import.meta.url);
const mainOf = (pkg: string): string => join(dirname(require.resolve(pkg)), 'main.js');
const ADMIN = { tenant: 'ops', admin: true, actor: 'admin' };
const TENANT = { tenant: 'bench', admin: false };
const HV_VTEP = '198.18.0.11';

async function main(): Promise<void> {
  log(`vtep-port-to-switch: PORTS=${PORTS} QUICK=${QUICK ? 1 : 0} ${JSON.stringify(machine())}`);
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-vtep-'));
  const db = await startOvsdbServer(dir);
  const nats = await startProvisionedNats();
  const procs: ManagedProcess[] = [];
  let session: VtepSession | undefined;
  try {
    await db.vtepCtl('add-ps', 'sw1');
    await db.vtepCtl('set', 'Physical_Switch', 'sw1', 'tunnel_ips=198.18.0.40');
    await db.vtepCtl('add-port', 'sw1', 'p1');
    const env = (user: string) => ({ NATS_URL: nats.url, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0', ...nats.env(user) });
    procs.push(startProcess('ipam', [process.execPath, mainOf('@strata/ipam')], { env: env('ipam') }));
    procs.push(startProcess('vtep', [process.execPath, mainOf('@strata/vtep')], { env: env('vtep') }));
    await Promise.all(procs.map((p) => p.ready));
    const ipam = new IpamClient(await nats.connect('api'));

    // Seen MACs with their first sighting (ms), from a monitor of our own on the switch's database.
    const seen = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    session = await VtepSession.open(parseTarget(db.target), {
      connectTimeoutMs: 5_000,
      requestTimeoutMs: 30_000,
      onChange: (replica) => {
        const view = vtepView(replica);
        for (const r of view.ucastRemote) {
          if (seen.has(r.mac) || view.locators.get(r.locator)?.dstIp !== HV_VTEP) continue;
          seen.set(r.mac, performance.now());
          waiters.get(r.mac)?.();
        }
      },
      onClose: () => {},
    });

    const pool = await ipam.command('pool.create', { name: 'h', cidr: '203.0.113.0/24', purpose: 'host-ip' }, ADMIN);
    await ipam.command('hypervisor.register', { id: 'hv1', vtepIp: HV_VTEP, hostPoolId: pool.id }, ADMIN);
    const net = await ipam.command('network.create', { name: 'bench' }, TENANT);
    await ipam.command('subnet.create', { networkId: net.id, cidr: '10.64.0.0/16' }, TENANT);
    const device = await ipam.command('gatewaydevice.create', { name: 'sw1', kind: 'ovsdb', vtepIp: '198.18.0.40', ovsdb: { target: db.target }, ports: [{ name: 'p1', tenant: 'bench' }] }, ADMIN);
    await ipam.command('gatewaybinding.create', { deviceId: device.id, port: 'p1', vlan: 10, networkId: net.id }, TENANT);

    const arrival = (mac: string, what: string): Promise<void> =>
      seen.has(mac)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${what}: ${mac} not in the switch database after 30 s`)), 30_000);
            waiters.set(mac, () => {
              clearTimeout(timer);
              resolve();
            });
          });
    const create = new Float64Array(PORTS);
    const toSwitch = new Float64Array(PORTS);
    const direct = new Float64Array(PORTS);
    let directLs: unknown;
    let hvLocator: unknown;
    for (let i = 0; i < PORTS; i++) {
      const t0 = performance.now();
      const port = await ipam.command('port.create', { networkId: net.id, hostId: 'hv1' }, TENANT);
      create[i] = performance.now() - t0;
      const mac = (port.mac as string).toLowerCase();
      await arrival(mac, `port ${i}`);
      toSwitch[i] = (seen.get(mac) as number) - t0;

      // The baseline: the same kind of row by one transaction of our own (hv1's locator exists once the first port is in).
      if (i === 0) {
        const view = vtepView(session.replica);
        hvLocator = ['uuid', [...view.locators.values()].find((l) => l.dstIp === HV_VTEP)!.uuid];
        const [res] = (await session.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'bench-direct', tunnel_key: 99_999 } }])) as Array<{ uuid: unknown }>;
        directLs = res!.uuid;
      }
      const dmac = `02:b0:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
      const t1 = performance.now();
      await session.transact([{ op: 'insert', table: 'Ucast_Macs_Remote', row: { MAC: dmac, logical_switch: directLs, locator: hvLocator, ipaddr: '' } }]);
      await arrival(dmac, `direct row ${i}`);
      direct[i] = (seen.get(dmac) as number) - t1;
    }
    await ipam.close();
    const row = (what: string, v: Float64Array) => [what, fmt(percentile(v, 50), 1), fmt(percentile(v, 99), 1), fmt(Math.max(...v), 1)];
    table(
      ['interval', 'p50 ms', 'p99 ms', 'max ms'],
      [row('port.create sent → its reply (IPAM only)', create), row('port.create sent → its MAC in the switch DB', toSwitch), row('direct: one OVSDB transaction sent → the row in the switch DB (baseline)', direct)],
    );
    printRatio(percentile(toSwitch, 50) / percentile(direct, 50), {
      measured: `port.create → its MAC in the switch DB p50 (${fmt(percentile(toSwitch, 50), 1)} ms)`,
      baseline: `one direct OVSDB transaction → the row seen p50 (${fmt(percentile(direct, 50), 1)} ms)`,
      goal: 'recorded (docs/performance.md)',
      also: `p99 ${fmt(percentile(toSwitch, 99), 1)} ÷ ${fmt(percentile(direct, 99), 1)} ms`,
    });
  } finally {
    session?.close();
    for (const p of procs.reverse()) await p.stop();
    await nats.stop();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
