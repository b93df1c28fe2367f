/**
 * BGP gateway: ROUTES host routes into an FRR ToR against gobgpd's own
 * streaming API, and withdraw latency.
 *
 *   npm run -w @strata/bench bgp-routes
 *   QUICK=1 npm run -w @strata/bench bgp-routes     (ROUTES=2000, SAMPLES=30, ROUNDS=1; under 2 minutes)
 *
 * One gobgpd and one FRR ToR in network namespaces (@strata/lab BgpFabric),
 * real nats-server, IPAM and gateway processes. Floating IPs come from
 * 198.19.0.0/18 (the RFC 2544 benchmarking range the lab's underlay uses:
 * the documentation ranges hold 512 addresses) on two hypervisors. The
 * gobgpd ↔ ToR session is up before any clock starts, and "the ToR has
 * them" is read twice: bgpd's pfxRcd for the gateway's session, and zebra's
 * routes in the ToR's kernel (`ip monitor route`, counted per address).
 *
 *   stream     ROUTES NAT association events appended (C in flight) while
 *              the gateway runs: first append → the ToR has them all. Bounded
 *              by the bench's append rate (printed next to it).
 *   ROUNDS times, each with every route first withdrawn and the gateway stopped:
 *   baseline   the same ROUTES /32s (same attributes) sent straight into the
 *              same gobgpd over AddPathStream, 1,000 paths per message, from
 *              this process: first message → the ToR has them all; then all
 *              withdrawn the same way (timed too).
 *   gateway    the gateway process started with the ROUTES associations
 *              already in the log: spawn → the ToR has them all (process
 *              start, log replay, configuration check, RIB read, reconcile,
 *              gobgpd, FRR), with the gateway's own timestamps for the split.
 *   withdraw   SAMPLES times, one at a time: a FIP disassociated (NAT event
 *              appended) and a VM port deleted (IPAM API ack) → the route
 *              gone from the ToR's kernel, p50/p99; the disassociations with a
 *              timeline (gateway pass, gobgpd's UPDATE on the wire, kernel).
 *
 * Last line: the ratio gateway ÷ baseline (kernel has all; medians over the
 * rounds), goal ≤ 1.2, and the withdraw p99, goal ≤ 100 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { connect } from 'nats';
import { natEvents } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { GobgpClient } from '@strata/bgp-gateway';
import { ensureHarnessCommandKeys } from '@strata/runtime';
import { BgpClient, BgpFabric, GATEWAY_AS, GW, IpamClient, startProcess, TOR, TOR_AS, type ManagedProcess } from '@strata/lab';
import { startNatsServer } from '@strata/testing';
import { QUICK, fmt, intEnv, log, machine, percentile, printRatio, runPool, table } from './support/common.js';

const ROUTES = intEnv('ROUTES', QUICK ? 2000 : 10_000, 1, 16_000);
const SAMPLES = intEnv('SAMPLES', QUICK ? 30 : 100, 1, 1000);
const ROUNDS = intEnv('ROUNDS', QUICK ? 1 : 3, 1, 20);
const C = intEnv('C', 16, 1, 256);
const require = createRequire(import.meta.url);
const GATEWAY_MAIN = join(dirname(require.resolve('@strata/bgp-gateway')), 'main.js');
const IPAM_MAIN = join(dirname(require.resolve('@strata/ipam')), 'main.js');

const address = (i: number): string => `198.19.${Math.floor(i / 256)}.${i % 256}`;
/** Wall-clock ms with sub-ms precision: comparable with tcpdump's and pino's epoch times. */
const wall = (): number => performance.timeOrigin + performance.now();
const median = (xs: number[]): number => percentile(Float64Array.from(xs), 50);

/** A long-running command's output, line by line. */
function follow(argv: string[], onLine: (line: string) => void): ChildProcess {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  child.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
  return child;
}

/** The ToR's kernel routes to the benchmark's addresses, kept current from `ip monitor route`. */
class KernelRoutes {
  readonly present = new Set<string>();
  private readonly gone = new Map<string, (at: number) => void>();
  private readonly waiters: { ok: () => boolean; resolve: (at: number) => void }[] = [];
  private readonly child: ChildProcess;

  constructor(ns: string, private readonly ours: ReadonlySet<string>) {
    this.child = follow(['ip', '-n', ns, 'monitor', 'route'], (l) => this.line(l));
  }

  private line(l: string): void {
    const at = wall();
    const m = /^(Deleted )?(\d+\.\d+\.\d+\.\d+)(?:\/32)? /.exec(l);
    if (!m || !this.ours.has(m[2]!)) return;
    if (m[1]) {
      this.present.delete(m[2]!);
      this.gone.get(m[2]!)?.(at);
      this.gone.delete(m[2]!);
    } else this.present.add(m[2]!);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (!this.waiters[i]!.ok()) continue;
      this.waiters[i]!.resolve(at);
      this.waiters.splice(i, 1);
    }
  }

  /** Wall time at which `ok` first held (now if it holds already). */
  when(ok: () => boolean, what: string, timeoutMs = 600_000): Promise<number> {
    if (ok()) return Promise.resolve(wall());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: the ToR's kernel has ${this.present.size} of our routes after ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ ok, resolve: (at) => (clearTimeout(timer), resolve(at)) });
    });
  }

  /** Wall time at which `addr` is deleted. */
  deleted(addr: string): Promise<number> {
    return new Promise((resolve) => this.gone.set(addr, resolve));
  }

  /** `ip monitor` is listening once it reports something; give it a moment. */
  ready(): Promise<void> {
    return new Promise((r) => setTimeout(r, 300));
  }

  stop(): void {
    this.child.kill();
  }
}

/** Times (wall ms) at which gobgpd sent a BGP message with content (not a keepalive) to the ToR. */
function updatesOnTheWire(ns: string): { times: number[]; child: ChildProcess } {
  const times: number[] = [];
  const child = follow(['ip', 'netns', 'exec', ns, 'tcpdump', '-l', '-nn', '-tt', '-i', 'eth0', `src host ${GW[0]} and dst host ${TOR} and tcp port 179 and greater 80`], (l) => {
    const m = /^(\d+\.\d+) .* length (\d+)/.exec(l);
    if (m && Number(m[2]) > 19) times.push(Number(m[1]) * 1000);
  });
  return { times, child };
}

/** The gateway's pass log lines ("advertisements reconciled") with their timings. */
interface PassLog {
  time: string;
  added: number;
  withdrawn: number;
  timing?: { waitedMs: number; syncMs: number; desiredMs: number; applyMs: number; passMs: number };
}
const passLogs = (output: string): PassLog[] =>
  output
    .split('\n')
    .filter((l) => l.includes('"advertisements reconciled"'))
    .map((l) => JSON.parse(l) as PassLog);
/** A pino line's time (ISO text) as epoch ms. */
const at = (p: { time: string }): number => Date.parse(p.time);
/** The first log line with message `msg`: its time (epoch ms) and fields. */
const logLine = (output: string, msg: string): { time: number; fields: Record<string, unknown> } | undefined => {
  const line = output.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
  if (!line) return undefined;
  const fields = JSON.parse(line) as { time: string } & Record<string, unknown>;
  return { time: at(fields), fields };
};

async function main(): Promise<void> {
  ensureHarnessCommandKeys(); // the services spawned below accept what this process's clients sign
  const nats = await startNatsServer();
  const fabric = new BgpFabric();
  const procs: ManagedProcess[] = [];
  try {
    const env = { NATS_URL: nats.url, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0' };
    const ipamProc = startProcess('ipam', [process.execPath, IPAM_MAIN], { env });
    procs.push(ipamProc);
    await fabric.start(1);
    const gwEnv = { ...env, GOBGP_TARGET: `unix://${fabric.socket(1)}`, BGP_RESYNC_MS: '600000' };
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
    /** Wall time at which the ToR's bgpd first reported `ok(pfxRcd)` (polled every 25 ms). */
    const until = async (what: string, ok: (n: number) => boolean, timeoutMs = 600_000): Promise<number> => {
      const t0 = performance.now();
      for (;;) {
        const n = await received();
        if (ok(n)) return wall();
        if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: ToR has ${n} prefixes after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await until('session', (n) => n >= 0);

    // The cloud: two hypervisors, a network, ROUTES ports and floating IPs (not timed).
    log(`creating ${ROUTES} ports and floating IPs`);
    const hostPool = await ipam.command('pool.create', { name: 'h', cidr: '203.0.113.128/26', purpose: 'host-ip' });
    await ipam.command('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.11', hostPoolId: hostPool.id });
    await ipam.command('hypervisor.register', { id: 'hv2', vtepIp: '198.18.0.12', hostPoolId: hostPool.id });
    const net = await ipam.command('network.create', { name: 'vms' });
    await ipam.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/16' });
    const fipPool = await ipam.command('pool.create', { name: 'fip', cidr: '198.19.0.0/18', purpose: 'floating-ip' });
    const ports: { id: string; ip: string; fip: string; address: string; vtep: string }[] = new Array(ROUTES);
    await runPool(ROUTES, C, async (i) => {
      const p = await ipam.command('port.create', { networkId: net.id, name: `vm${i}`, hostId: i % 2 ? 'hv2' : 'hv1' });
      const f = await ipam.command('floatingip.create', { poolId: fipPool.id, address: address(i + 1) });
      ports[i] = { id: p.id, ip: p.fixedIps[0]!.ip, fip: f.id, address: f.address, vtep: i % 2 ? '198.18.0.12' : '198.18.0.11' };
    });
    // The two hypervisors' H-IP routes are advertised from here on: `base`.
    await until('H-IP routes', (n) => n >= 2);
    const base = await received();
    const kernel = new KernelRoutes(fabric.ns('tor'), new Set(ports.map((p) => p.address)));
    await kernel.ready();
    const kernelHasAll = (what: string): Promise<number> => kernel.when(() => kernel.present.size === ROUTES, what);
    const kernelHasNone = (what: string): Promise<number> => kernel.when(() => kernel.present.size === 0, what);

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
    const tStream0 = wall();
    await runPool(ROUTES, C, async (i) => void (await append(i, 'nat.FloatingIpAssociated')));
    const tAppended = wall();
    const tStreamKernel = await kernelHasAll('gateway routes after streaming');
    const tStream = await until('gateway routes at the ToR', (n) => n >= base + ROUTES);

    // Rounds: the same ROUTES paths from this process over AddPathStream, then from the gateway replaying the log.
    const direct = new GobgpClient({ target: `unix://${fabric.socket(1)}`, timeoutMs: 60_000 });
    const paths = ports.map((p) => ({ prefix: `${p.address}/32`, nextHop: p.vtep }));
    const rounds: { apiBgp: number; apiKernel: number; apiCall: number; apiWithdraw: number; gwBgp: number; gwKernel: number; gwConnected: number; gwRebuilt: number; gwEvents: number; gwStarted: number; gwPassAt: number; gwPass: PassLog | undefined }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      log(`round ${r + 1}/${ROUNDS}: gateway stopped, routes withdrawn`);
      await gateway.stop();
      await direct.applyPaths([], paths);
      await kernelHasNone('routes withdrawn before the baseline');
      await until('routes withdrawn before the baseline', (n) => n === base);

      log(`round ${r + 1}/${ROUNDS}: baseline, AddPathStream from the bench`);
      const tApi0 = wall();
      await direct.applyPaths(paths, []);
      const tApiCall = wall();
      const tApiKernel = await kernelHasAll('AddPathStream routes in the kernel');
      const tApiBgp = await until('AddPathStream routes at the ToR', (n) => n >= base + ROUTES);
      const tDel0 = wall();
      await direct.applyPaths([], paths);
      const tDelKernel = await kernelHasNone('AddPathStream routes withdrawn');
      await until('AddPathStream routes withdrawn', (n) => n === base);

      log(`round ${r + 1}/${ROUNDS}: gateway started with the associations in the log`);
      const tGw0 = wall();
      gateway = startGateway();
      const tGwKernel = await kernelHasAll('gateway routes after a restart');
      const tGwBgp = await until('gateway routes at the ToR after a restart', (n) => n >= base + ROUTES);
      const out = gateway.output();
      const pass = passLogs(out).find((p) => p.added >= ROUTES);
      rounds.push({
        apiBgp: tApiBgp - tApi0,
        apiKernel: tApiKernel - tApi0,
        apiCall: tApiCall - tApi0,
        apiWithdraw: tDelKernel - tDel0,
        gwBgp: tGwBgp - tGw0,
        gwKernel: tGwKernel - tGw0,
        gwConnected: (logLine(out, 'connected')?.time ?? NaN) - tGw0,
        gwRebuilt: (logLine(out, 'state rebuilt')?.time ?? NaN) - tGw0,
        gwEvents: Number(logLine(out, 'state rebuilt')?.fields['seq'] ?? NaN),
        gwStarted: (logLine(out, 'started')?.time ?? NaN) - tGw0,
        gwPassAt: (pass ? at(pass) : NaN) - tGw0,
        gwPass: pass,
      });
    }
    direct.close();

    // Withdraw latency, one at a time, with a timeline for the disassociations.
    log(`withdraw latency: ${SAMPLES} disassociations, ${SAMPLES} port deletions`);
    const wire = updatesOnTheWire(fabric.ns('gw1'));
    await new Promise((r) => setTimeout(r, 500));
    const timeline: { pass: number; wire: number }[] = [];
    const spans: { t0: number; t1: number }[] = [];
    const measure = async (i: number, act: () => Promise<unknown>): Promise<number> => {
      const addr = ports[i]!.address;
      const seen = kernel.deleted(addr);
      const passesBefore = passLogs(gateway.output()).length;
      const t0 = wall();
      await act();
      const t1 = await Promise.race([seen, new Promise<number>((_, rej) => setTimeout(() => rej(new Error(`${addr} not withdrawn within 30 s`)), 30_000))]);
      const pass = passLogs(gateway.output())[passesBefore];
      timeline.push({ pass: pass ? at(pass) - t0 : NaN, wire: NaN });
      spans.push({ t0, t1 });
      return t1 - t0;
    };
    const disassoc = new Float64Array(SAMPLES);
    const deletion = new Float64Array(SAMPLES);
    for (let s = 0; s < SAMPLES; s++) disassoc[s] = await measure(s, () => append(s, 'nat.FloatingIpDisassociated'));
    const passDetail = passLogs(gateway.output()).filter((p) => p.withdrawn === 1).slice(-SAMPLES);
    for (let s = 0; s < SAMPLES; s++) deletion[s] = await measure(SAMPLES + s, () => ipam.command('port.delete', { id: ports[SAMPLES + s]!.id }));
    // tcpdump's lines may come after the kernel's: matched once it has printed them all.
    await new Promise((r) => setTimeout(r, 1000));
    wire.child.kill();
    timeline.forEach((t, i) => {
      const onWire = wire.times.find((w) => w >= spans[i]!.t0 && w <= spans[i]!.t1);
      if (onWire !== undefined) t.wire = onWire - spans[i]!.t0;
    });
    kernel.stop();

    const m = (f: (r: (typeof rounds)[number]) => number): number => median(rounds.map(f));
    const [apiKernel, gwKernel] = [m((r) => r.apiKernel), m((r) => r.gwKernel)];
    /** The gateway's part after its replay: `state rebuilt` → the kernel has all (proto loading, configuration check, watch, RIB read, reconcile). */
    const gwAfterReplay = m((r) => r.gwKernel - r.gwRebuilt);
    console.log(JSON.stringify({ machine: machine(), routes: ROUTES, samples: SAMPLES, rounds: ROUNDS, concurrency: C, quick: QUICK }, null, 1));
    console.log(`\nROUTES /32s until the ToR has them all (median of ${ROUNDS} round(s); gobgpd ↔ ToR session up before every clock):`);
    table(
      ['phase', 'ms: bgpd pfxRcd', 'ms: kernel (zebra)', 'routes/s (kernel)', 'vs AddPathStream (kernel)'],
      [
        ['gobgpd AddPathStream from the bench (baseline)', fmt(m((r) => r.apiBgp)), fmt(apiKernel), fmt((ROUTES * 1000) / apiKernel), '1.00'],
        ['gateway started, associations in the log', fmt(m((r) => r.gwBgp)), fmt(gwKernel), fmt((ROUTES * 1000) / gwKernel), fmt(gwKernel / apiKernel, 2)],
        ['  of which after its log replay', '', fmt(gwAfterReplay), fmt((ROUTES * 1000) / gwAfterReplay), fmt(gwAfterReplay / apiKernel, 2)],
        ['gateway running, events appended (append-bound)', fmt(tStream - tStream0), fmt(tStreamKernel - tStream0), fmt((ROUTES * 1000) / (tStreamKernel - tStream0)), fmt((tStreamKernel - tStream0) / apiKernel, 2)],
      ],
    );
    log(`appending the ${ROUTES} events alone took ${fmt(tAppended - tStream0)} ms; the baseline's AddPathStream call returned after ${fmt(m((r) => r.apiCall))} ms; withdrawing all over AddPathStream: ${fmt(m((r) => r.apiWithdraw))} ms until the kernel had none`);
    console.log('\nThe gateway restart, per round (ms from spawn):');
    table(
      ['round', 'NATS connected', 'log replayed (events)', 'started', 'RIB pass start', 'pass: config check', 'pass: desired', 'pass: RIB read + AddPathStream', 'kernel has all'],
      rounds.map((r, i) => {
        const t = r.gwPass?.timing;
        return [
          String(i + 1),
          fmt(r.gwConnected),
          `${fmt(r.gwRebuilt)} (${fmt(r.gwEvents)})`,
          fmt(r.gwStarted),
          fmt(r.gwPassAt - (t?.passMs ?? NaN)),
          fmt(t?.syncMs ?? NaN),
          fmt(t?.desiredMs ?? NaN),
          fmt(t?.applyMs ?? NaN),
          fmt(r.gwKernel),
        ];
      }),
    );
    console.log(`\nWithdraw latency (one at a time, ${SAMPLES} each):`);
    table(
      ['withdraw after', 'p50 ms', 'p99 ms', 'max ms'],
      [
        ['FIP disassociated (event appended)', fmt(percentile(disassoc, 50), 1), fmt(percentile(disassoc, 99), 1), fmt(Math.max(...disassoc), 1)],
        ['VM port deleted (IPAM ack)', fmt(percentile(deletion, 50), 1), fmt(percentile(deletion, 99), 1), fmt(Math.max(...deletion), 1)],
      ],
    );
    const col = (f: (i: number) => number): Float64Array => Float64Array.from({ length: SAMPLES }, (_, i) => f(i));
    const timed = (p: PassLog | undefined, k: keyof NonNullable<PassLog['timing']>): number => p?.timing?.[k] ?? NaN;
    console.log('\nDisassociation timeline, p50 / p99 ms after the append (gateway log, tcpdump on gobgpd → ToR, ip monitor):');
    table(
      ['step', 'p50', 'p99', 'samples'],
      (
        [
          ['pass waited (event applied → pass start)', col((i) => timed(passDetail[i], 'waitedMs'))],
          ['pass: config check', col((i) => timed(passDetail[i], 'syncMs'))],
          ['pass: desired advertisements', col((i) => timed(passDetail[i], 'desiredMs'))],
          ['pass: AddPathStream', col((i) => timed(passDetail[i], 'applyMs'))],
          ['pass logged (after append)', col((i) => timeline[i]!.pass)],
          ['UPDATE on the wire (after append)', col((i) => timeline[i]!.wire)],
          ['kernel route deleted (after append)', disassoc],
        ] as const
      ).map(([step, all]) => {
        // A step not seen for a sample (a log line or a packet missed) leaves it out.
        const xs = all.filter(Number.isFinite);
        return [step, fmt(percentile(xs, 50), 1), fmt(percentile(xs, 99), 1), String(xs.length)];
      }),
    );
    await ipam.close();
    await nc.close();
    const p99 = Math.max(percentile(disassoc, 99), percentile(deletion, 99));
    printRatio(gwKernel / apiKernel, {
      measured: `the gateway from the log, ${ROUTES} routes into the ToR's kernel`,
      baseline: 'the same routes over gobgpd AddPathStream',
      goal: '≤ 1.2',
      also: `after its replay ${fmt(gwAfterReplay / apiKernel, 2)}; withdraw p99 ${fmt(p99, 1)} ms, goal ≤ 100`,
    });
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    await fabric.stop();
    await nats.stop();
  }
}

await main();
