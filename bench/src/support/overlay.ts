/**
 * Helpers for the overlay benchmarks (overlay-*.ts): a namespace lab
 * (@strata/lab) that is destroyed on every exit path, tenant networks and
 * VMs built the way test/overlay/scenario.ts builds them, processes started
 * in lab namespaces and stopped by PID, /proc readings of a process, and the
 * agents' own metrics (read from the HTTP port each agent logs on
 * "connected": the lab starts them with STRATA_HTTP_PORT=0).
 *
 * Everything runs in namespaces whose names start with the lab's per-run
 * prefix; nothing touches the root namespace's network configuration.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg, release } from 'node:os';
import { join } from 'node:path';
import type { NetworkView, PortView, SubnetView } from '@strata/contracts';
import { Lab, Netns, type LabOptions, type ManagedProcess, type Principal, type Vm } from '@strata/lab';
import { log, machine } from './common.js';

// ---------------------------------------------------------------- machine and load

/** `uptime` as printed (the load the run shared the machine with). */
export function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return `loadavg ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
  }
}

/** Machine facts for the header of a run: common.ts's machine() plus the kernel and `uptime`. */
export function runHeader(title: string, settings: Record<string, string | number>): Record<string, string> {
  const m = { ...machine(), kernel: release(), uptime: uptime() };
  console.log(`# ${title}  ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  console.log(Object.entries(m).map(([k, v]) => `${k}: ${v}`).join('\n'));
  return m;
}

/** Whole-machine CPU busy share between two readings of /proc/stat (all cores; other people's work included). */
export class CpuBusy {
  private start = CpuBusy.read();
  private static read(): { busy: number; total: number } {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  }
  reset(): void {
    this.start = CpuBusy.read();
  }
  /** Busy share since the last reset, 0..1. */
  share(): number {
    const now = CpuBusy.read();
    const total = now.total - this.start.total;
    return total > 0 ? (now.busy - this.start.busy) / total : NaN;
  }
}

// ---------------------------------------------------------------- the lab

/**
 * Start something (a lab, zones), run `body`, and destroy it on every exit
 * path: normal end, exception, SIGINT/SIGTERM (node's default signal
 * handling would skip the 'exit' hooks that kill its processes). The bench's
 * own processes (startInNs) are stopped with it.
 */
export async function withTeardown<R, T>(what: string, start: () => Promise<R>, destroyIt: (r: R) => Promise<void>, body: (r: R) => Promise<T>): Promise<T> {
  let started: R | undefined;
  let destroying: Promise<void> | undefined;
  const destroy = (): Promise<void> => (destroying ??= (started === undefined ? Promise.resolve() : destroyIt(started)).then(() => stopAll()));
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`${sig}: tearing the ${what} down`);
    void destroy().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const t0 = performance.now();
    started = await start();
    log(`${what} up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return await body(started);
  } finally {
    await destroy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    log(`${what} destroyed`);
  }
}

/** A lab (`hypervisors` of them), torn down on every exit path (withTeardown). */
export function withLab<T>(options: LabOptions, body: (lab: Lab) => Promise<T>): Promise<T> {
  return withTeardown(`lab (${options.hypervisors} hypervisors)`, () => Lab.start(options), (lab) => lab.destroy(), body);
}

export interface TenantNet {
  who: Principal;
  net: NetworkView;
  subnet: SubnetView;
}

/** A tenant network with one IPv4 subnet (default MTU: 1450, the VXLAN overhead taken off a 1500-byte underlay). */
export async function tenantNet(lab: Lab, tenant: string, name: string, cidr: string): Promise<TenantNet> {
  const who = { tenant, admin: false };
  const net = await lab.ipam.command('network.create', { name }, who);
  const subnet = await lab.ipam.command('subnet.create', { networkId: net.id, name: `${name}-v4`, cidr }, who);
  return { who, net, subnet };
}

/** What Vm.configureStatic needs for a port on `t` (address, gateway, MTU: what DHCP would have said). */
export function staticConfig(t: TenantNet): Record<string, { prefixLength: number; gatewayIp: string | null; mtu: number }> {
  return { [t.subnet.id]: { prefixLength: Number(t.subnet.cidr.split('/')[1]), gatewayIp: t.subnet.gatewayIp, mtu: t.net.mtu } };
}

/** Create a port bound to `hostId` and boot a VM on it, statically configured (as scenario.ts's vmOn). */
export async function vmOn(lab: Lab, t: TenantNet, name: string, hostId: string): Promise<Vm> {
  const port: PortView = await lab.ipam.command('port.create', { networkId: t.net.id, name, hostId }, t.who);
  const vm = await lab.addVm(name, port, hostId);
  await vm.configureStatic(staticConfig(t));
  return vm;
}

/** Ping (bounded attempts) until the path works. */
export async function reachable(from: Vm, ip: string, attempts = 120): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await from.pingOnce(ip)) return;
    await sleep(250);
  }
  throw new Error(`${from.name} cannot reach ${ip}`);
}

/** A fresh namespace of this lab (named with its prefix, so lab.destroy() deletes it). */
export function labNetns(lab: Lab, name: string): Promise<Netns> {
  return Netns.create(`${lab.prefix}${name}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- processes in lab namespaces

export interface NsProcess {
  pid: number;
  output(): string;
  /** Resolves when `pattern` appears in the output (bounded). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  exited: Promise<number | null>;
  /** SIGTERM, SIGKILL after graceMs; by PID. */
  stop(graceMs?: number): Promise<void>;
}

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Run argv inside namespace `ns` (`ip netns exec` execs the program: the PID is the program's). */
export function startInNs(ns: string, argv: string[]): NsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (c: Buffer): void => {
    out = (out + c.toString()).slice(-1024 * 1024);
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => {
    started.delete(child);
    for (const w of waiters.splice(0)) w();
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid!,
    output: () => out,
    exited,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (!running()) throw new Error(`${argv.join(' ')} exited before /${pattern.source}/:\n${out.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`${argv.join(' ')}: no /${pattern.source}/ within ${timeoutMs} ms:\n${out.slice(-2000)}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, 100);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    async stop(graceMs = 3000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((c) => new Promise<void>((r) => {
    if (c.exitCode !== null || c.signalCode !== null) return r();
    c.once('exit', () => r());
    c.kill('SIGKILL');
  })));
}

// ---------------------------------------------------------------- /proc

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcCpu {
  /** utime + stime of the process itself, seconds. */
  self: number;
  /** cutime + cstime: children it has waited for (ip/bridge/nft batches), seconds. */
  children: number;
}

export function procCpu(pid: number): ProcCpu {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at field 3.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const n = (i: number): number => Number(f[i - 3]);
  return { self: (n(14) + n(15)) / CLK_TCK, children: (n(16) + n(17)) / CLK_TCK };
}

/** VmRSS and VmHWM (peak) in MiB, from /proc/<pid>/status. */
export function procMem(pid: number): { rssMiB: number; hwmMiB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

/** PIDs of the dnsmasq processes an agent runs (its state dir's PID files), still alive. */
export function dnsmasqPids(lab: Lab, hostId: string): number[] {
  const dir = join(lab.stateDir, hostId, 'dnsmasq');
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.pid'));
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const f of files) {
    try {
      const pid = Number(readFileSync(join(dir, f), 'utf8').trim());
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dnsmasq')) pids.push(pid);
    } catch {
      /* gone */
    }
  }
  return pids;
}

// ---------------------------------------------------------------- the agents' metrics

/** host:port of a service's metrics endpoint, from its "connected" log line (`http` field). */
export function httpAddress(p: ManagedProcess): string {
  for (const line of p.output().split('\n')) {
    if (!line.includes('"connected"')) continue;
    try {
      const o = JSON.parse(line) as { msg?: string; http?: string };
      if (o.msg === 'connected' && o.http) return o.http;
    } catch {
      /* not JSON */
    }
  }
  throw new Error(`${p.name}: no "connected" log line with an http field`);
}

/** Prometheus text → series name (with labels as printed) → value. */
export async function scrape(address: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** The value of the first series named `name` (any labels: services add a default `service` label). */
export function series(m: Map<string, number>, name: string): number {
  for (const [k, v] of m) if (k === name || k.startsWith(`${name}{`)) return v;
  return NaN;
}

/** A histogram's cumulative buckets, sum and count from a scrape. */
export function histogram(m: Map<string, number>, name: string): { buckets: Array<[number, number]>; sum: number; count: number } {
  const buckets: Array<[number, number]> = [];
  for (const [k, v] of m) {
    const b = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\}$`).exec(k);
    if (b) buckets.push([b[1] === '+Inf' ? Infinity : Number(b[1]), v]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const one = (suffix: string): number => {
    for (const [k, v] of m) if (k === `${name}_${suffix}` || k.startsWith(`${name}_${suffix}{`)) return v;
    return 0;
  };
  return { buckets, sum: one('sum'), count: one('count') };
}

/** Difference of two readings of one histogram: observations between them. */
export function histogramDelta(
  a: ReturnType<typeof histogram>,
  b: ReturnType<typeof histogram>,
): { buckets: Array<[number, number]>; sum: number; count: number } {
  const before = new Map(a.buckets);
  return { buckets: b.buckets.map(([le, v]) => [le, v - (before.get(le) ?? 0)]), sum: b.sum - a.sum, count: b.count - a.count };
}

/** Upper bound of the bucket holding the p-th percentile (a histogram only knows buckets). */
export function bucketPercentile(h: { buckets: Array<[number, number]>; count: number }, p: number): number {
  if (h.count <= 0) return NaN;
  const rank = Math.ceil((p / 100) * h.count);
  for (const [le, v] of h.buckets) if (v >= rank) return le;
  return Infinity;
}

/** Agent log lines with msg "applied" (the agent logs one per reconcile that changed the kernel). */
export interface AppliedLine {
  ops: number;
  seconds: number;
  time: number;
  read?: boolean;
  /** A full pass's phases, ms (compose, read, plan, apply, after). */
  ms?: Record<string, number>;
}

/** The agent's "applied" log lines; `read`: whether that full pass read the kernel (false: a kept pass; absent: a fast pass or an older agent). */
export function appliedLines(p: ManagedProcess): AppliedLine[] {
  const out: AppliedLine[] = [];
  for (const line of p.output().split('\n')) {
    if (!line.includes('"applied"')) continue;
    try {
      const o = JSON.parse(line) as { msg?: string; ops?: number; seconds?: number; time?: number | string; read?: boolean; ms?: Record<string, number> };
      if (o.msg === 'applied' && typeof o.seconds === 'number') {
        const time = typeof o.time === 'string' ? Date.parse(o.time) : (o.time ?? NaN);
        out.push({ ops: o.ops ?? 0, seconds: o.seconds, time, ...(typeof o.read === 'boolean' ? { read: o.read } : {}), ...(o.ms ? { ms: o.ms } : {}) });
      }
    } catch {
      /* not JSON */
    }
  }
  return out;
}

// ---------------------------------------------------------------- numbers

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile of plain numbers. */
export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
