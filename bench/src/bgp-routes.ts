/**
 * BGP gateway: 10,000 host routes into an FRR ToR, and withdraw latency.
 *
 *   npm run -w @strata/bench bgp-routes
 *   ROUTES=2000 SAMPLES=50 npm run -w @strata/bench bgp-routes        (quick)
 *
 * One gobgpd and one FRR ToR in network namespaces (@strata/lab BgpFabric),
 * real nats-server, IPAM and gateway processes. Floating IPs come from
 * 198.19.0.0/18 (the RFC 2544 benchmarking range the lab's underlay uses:
 * the documentation ranges hold 512 addresses) on two hypervisors.
 *
 *   baseline  the same ROUTES /32s injected with the gobgp CLI
 *             (`gobgp global rib add`, C in parallel) into the same gobgpd:
 *             first command → the ToR has them all (pfxRcd); then removed.
 *   stream    ROUTES NAT association events appended (C in flight) while the
 *             gateway runs: first append → the ToR has them all.
 *   cold      gateway stopped, gobgpd restarted empty, gateway started with
 *             the ROUTES associations in the log: process start → the ToR has
 *             them all (replay + reconcile + BGP).
 *   withdraw  SAMPLES times, one at a time: a FIP disassociated (NAT event
 *             appended) and a VM port deleted (IPAM API ack) → the route gone
 *             from the ToR's kernel (FRR's zebra removed it; seen with
 *             `ip monitor route`), p50/p99.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { connect } from 'nats';
import { natEvents } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { BgpClient, BgpFabric, GATEWAY_AS, GW, IpamClient, sh, startProcess, TOR, TOR_AS, type ManagedProcess } from '@strata/lab';
import { startNatsServer } from '@strata/testing';
import { fmt, intEnv, log, machine, percentile, runPool, table } from './support/common.js';

const ROUTES = intEnv('ROUTES', 10_000, 1, 16_000);
const SAMPLES = intEnv('SAMPLES', 100, 1, 1000);
const C = intEnv('C', 16, 1, 256);
const require = createRequire(import.meta.url);
const GATEWAY_MAIN = join(dirname(require.resolve('@strata/bgp-gateway')), 'main.js');
const IPAM_MAIN = join(dirname(require.resolve('@strata/ipam')), 'main.js');

const address = (i: number): string => `198.19.${Math.floor(i / 256)}.${i % 256}`;

async function main(): Promise<void> {
  const nats = await startNatsServer();
  const fabric = new BgpFabric();
  const procs: ManagedProcess[] = [];
  try {
    const env = { NATS_URL: nats.url, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0' };
    const ipamProc = startProcess('ipam', [process.execPath, IPAM_MAIN], { env });
    procs.push(ipamProc);
    await fabric.start(1);
    const gwEnv = { ...env, STRATA_LOG_LEVEL: 'info', GOBGP_TARGET: `unix://${fabric.socket(1)}`, BGP_RESYNC_MS: '600000' };
    const startGateway = (): ManagedProcess => {
      const p = startProcess('bgp', [process.execPath, GATEWAY_MAIN], { env: gwEnv });
      procs.push(p);
      return p;
    };
    let gateway = startGateway();
    await Promise.all([ipamProc.ready, gateway.ready]);
    const nc = await connect({ servers: nats.url });
    const store = await JetStreamEventStore.open(nc);
    const ipam = await IpamClient.connect(nats.url, 60_000);
    const bgp = new BgpClient(ipam.nc, 60_000, ipam.seq);
    await bgp.command('settings.set', { localAs: GATEWAY_AS, routerId: GW[0] });
    await bgp.command('peer.create', { name: 'tor', address: TOR, remoteAs: TOR_AS });
    const received = async (): Promise<number> => {
      const s = await fabric.tor.json<{ ipv4Unicast?: { peers?: Record<string, { state: string; pfxRcd?: number }> } }>('show bgp summary json');
      const p = s.ipv4Unicast?.peers?.[GW[0]];
      return p?.state === 'Established' ? (p.pfxRcd ?? 0) : -1;
    };
    const until = async (what: string, ok: (n: number) => boolean, timeoutMs = 600_000): Promise<number> => {
      const t0 = performance.now();
      for (;;) {
        const n = await received();
        if (ok(n)) return performance.now();
        if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: ToR has ${n} prefixes after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await until('session', (n) => n >= 0);
    const base = await received();

    // The cloud: two hypervisors, a network, ROUTES ports and floating IPs (not timed).
    log(`creating ${ROUTES} ports and floating IPs`);
    const hostPool = await ipam.command('pool.create', { name: 'h', cidr: '203.0.113.128/26', purpose: 'host-ip' });
    await ipam.command('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.11', hostPoolId: hostPool.id });
    await ipam.command('hypervisor.register', { id: 'hv2', vtepIp: '198.18.0.12', hostPoolId: hostPool.id });
    const net = await ipam.command('network.create', { name: 'vms' });
    await ipam.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/16' });
    const fipPool = await ipam.command('pool.create', { name: 'fip', cidr: '198.19.0.0/18', purpose: 'floating-ip' });
    const ports: { id: string; ip: string; fip: string; address: string }[] = new Array(ROUTES);
    await runPool(ROUTES, C, async (i) => {
      const p = await ipam.command('port.create', { networkId: net.id, name: `vm${i}`, hostId: i % 2 ? 'hv2' : 'hv1' });
      const f = await ipam.command('floatingip.create', { poolId: fipPool.id, address: address(i + 1) });
      ports[i] = { id: p.id, ip: p.fixedIps[0]!.ip, fip: f.id, address: f.address };
    });

    // Baseline: the gobgp CLI into the same gobgpd.
    log('baseline: gobgp CLI');
    const cli = ['ip', 'netns', 'exec', fabric.ns('gw1'), 'gobgp', '--target', `unix://${fabric.socket(1)}`];
    const tCli0 = performance.now();
    await runPool(ROUTES, C, async (i) => {
      await sh([...cli, 'global', 'rib', 'add', '-a', 'ipv4', `${ports[i]!.address}/32`, 'nexthop', i % 2 ? '198.18.0.12' : '198.18.0.11']);
    });
    const tCliAdded = performance.now();
    const tCli = await until('CLI routes at the ToR', (n) => n >= base + ROUTES);
    await sh([...cli, 'global', 'rib', 'del', 'all', '-a', 'ipv4']).catch(() => sh([...cli, 'global', 'rib', '-a', 'ipv4', 'del', 'all']));
    await until('CLI routes removed', (n) => n === base);

    // Stream: association events while the gateway runs.
    log('gateway: streaming NAT association events');
    const append = (i: number, type: 'nat.FloatingIpAssociated' | 'nat.FloatingIpDisassociated') => {
      const p = ports[i]!;
      const data =
        type === 'nat.FloatingIpAssociated'
          ? { floatingIpId: p.fip, address: p.address, portId: p.id, networkId: net.id, fixedIp: p.ip }
          : { floatingIpId: p.fip, address: p.address, portId: p.id, reason: 'requested' as const };
      const enc = natEvents.encode(type, data);
      const aggregate = { context: 'nat', type: 'floatingip', id: p.fip };
      const id = randomUUID();
      return store.lastSeq(`strata.evt.nat.floatingip.${p.fip}`).then((v) =>
        store.append(aggregate, { id, type, version: enc.version, aggregate, data: enc.data, tenant: 'ops', actor: 'nat', occurredAt: new Date().toISOString(), correlationId: id, causationId: null }, { expectedVersion: v === 0 ? 'none' : v }),
      );
    };
    const tStream0 = performance.now();
    await runPool(ROUTES, C, async (i) => void (await append(i, 'nat.FloatingIpAssociated')));
    const tAppended = performance.now();
    const tStream = await until('gateway routes at the ToR', (n) => n >= base + ROUTES);

    // Cold: gobgpd restarted empty, gateway started with everything in the log.
    log('gateway: cold start');
    await gateway.stop();
    await fabric.gobgpd(1).kill9();
    await fabric.startGobgpd(1);
    await until('ToR lost the routes', (n) => n <= 0);
    const tCold0 = performance.now();
    gateway = startGateway();
    const tCold = await until('gateway routes at the ToR after a cold start', (n) => n >= base + ROUTES);

    // Withdraw latency: `ip monitor route` in the ToR reports each deletion as it happens.
    log(`withdraw latency: ${SAMPLES} disassociations, ${SAMPLES} port deletions`);
    const gone = new Map<string, () => void>();
    const monitor = spawn('ip', ['-n', fabric.ns('tor'), 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    monitor.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        const m = /^Deleted (\S+)/.exec(l);
        if (m) gone.get(m[1]!.replace(/\/32$/, ''))?.();
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    const measure = async (i: number, act: () => Promise<unknown>): Promise<number> => {
      const addr = ports[i]!.address;
      const seen = new Promise<number>((resolve) => gone.set(addr, () => resolve(performance.now())));
      const t0 = performance.now();
      await act();
      return (await Promise.race([seen, new Promise<number>((_, rej) => setTimeout(() => rej(new Error(`${addr} not withdrawn within 30 s`)), 30_000))])) - t0;
    };
    const disassoc = new Float64Array(SAMPLES);
    const deletion = new Float64Array(SAMPLES);
    for (let s = 0; s < SAMPLES; s++) disassoc[s] = await measure(s, () => append(s, 'nat.FloatingIpDisassociated'));
    for (let s = 0; s < SAMPLES; s++) deletion[s] = await measure(SAMPLES + s, () => ipam.command('port.delete', { id: ports[SAMPLES + s]!.id }));
    monitor.kill();

    console.log(JSON.stringify({ machine: machine(), routes: ROUTES, samples: SAMPLES, concurrency: C }, null, 1));
    table(
      ['phase', 'ms until the ToR has all', 'routes/s', 'vs gobgp CLI'],
      [
        ['gobgp CLI (baseline)', fmt(tCli - tCli0), fmt((ROUTES * 1000) / (tCli - tCli0)), '1.00'],
        ['gateway, events streamed', fmt(tStream - tStream0), fmt((ROUTES * 1000) / (tStream - tStream0)), fmt((tCli - tCli0) / (tStream - tStream0), 2)],
        ['gateway, cold start', fmt(tCold - tCold0), fmt((ROUTES * 1000) / (tCold - tCold0)), fmt((tCli - tCli0) / (tCold - tCold0), 2)],
      ],
    );
    log(`CLI commands alone took ${fmt(tCliAdded - tCli0)} ms; appending the ${ROUTES} events alone took ${fmt(tAppended - tStream0)} ms`);
    table(
      ['withdraw after', 'p50 ms', 'p99 ms', 'max ms'],
      [
        ['FIP disassociated (event appended)', fmt(percentile(disassoc, 50), 1), fmt(percentile(disassoc, 99), 1), fmt(Math.max(...disassoc), 1)],
        ['VM port deleted (IPAM ack)', fmt(percentile(deletion, 50), 1), fmt(percentile(deletion, 99), 1), fmt(Math.max(...deletion), 1)],
      ],
    );
    await ipam.close();
    await nc.close();
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    await fabric.stop();
    await nats.stop();
  }
}

await main();
