/**
 * Helpers for the security-group benchmarks (sg-*.ts): the membership
 * topology (a referenced group "web", a group "app" whose rule names web, a
 * parking group "idle", a pool of member ports), kernel readings (element
 * and rule counts of Strata's nftables tables), `nft monitor` per
 * hypervisor namespace (the moment the kernel committed an element, exact
 * and independent of the agent), a scratch-namespace nft baseline, and CPU
 * readings of the agents and the control plane.
 *
 * Everything runs in the lab's namespaces (names with the lab's prefix);
 * processes started here are stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { PortView, SecurityGroupView } from '@strata/contracts';
import { sh, type Hypervisor, type Lab, type Principal } from '@strata/lab';
import { log, runPool } from './common.js';
import { appliedLines, labNetns, procCpu, sleep } from './overlay.js';

/** Wall clock with sub-millisecond resolution (comparable with the agents' ISO log times). */
export const wall = (): number => performance.timeOrigin + performance.now();

/** The 32-hex form of an id that the agent uses in nft names (services/agent/src/core/names.ts nftId, for UUIDs). */
export const nftHex = (id: string): string => id.replaceAll('-', '').toLowerCase();
export const setName = (groupId: string, v: 4 | 6 = 4): string => `sg_${nftHex(groupId)}_v${v}`;
export const sgChain = (groupId: string, dir: 'in' | 'out'): string => `sg_${nftHex(groupId)}_${dir}`;
export const portChain = (portId: string, dir: 'in' | 'out'): string => `port_${nftHex(portId)}_${dir}`;

// ---------------------------------------------------------------- kernel readings

type NftJson = { nftables?: Array<Record<string, { elem?: unknown[]; name?: string; family?: string } | undefined>> };

/** Elements of one set in a namespace (0 when the set does not exist). */
export async function setSize(ns: string, family: string, table: string, set: string): Promise<number> {
  let out: string;
  try {
    out = await sh(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'set', family, table, set], { timeoutMs: 60_000 });
  } catch {
    return 0;
  }
  const doc = JSON.parse(out) as NftJson;
  for (const item of doc.nftables ?? []) if (item['set']) return item['set'].elem?.length ?? 0;
  return 0;
}

export interface TableCounts {
  rules: number;
  /** Rules counted in `nft -a list table` text (lines with a handle that do not open a block): a cross-check of `rules`. */
  rulesText: number;
  chains: number;
  sets: number;
  maps: number;
  setElements: number;
  mapElements: number;
}

/** Counts of `<family> strata` in a namespace (all zero when the table does not exist). */
export async function tableCounts(ns: string, family: 'inet' | 'bridge'): Promise<TableCounts> {
  const c: TableCounts = { rules: 0, rulesText: 0, chains: 0, sets: 0, maps: 0, setElements: 0, mapElements: 0 };
  let json: string;
  let text: string;
  try {
    json = await sh(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'table', family, 'strata'], { timeoutMs: 120_000 });
    text = await sh(['ip', 'netns', 'exec', ns, 'nft', '-a', 'list', 'table', family, 'strata'], { timeoutMs: 120_000 });
  } catch {
    return c;
  }
  for (const item of (JSON.parse(json) as NftJson).nftables ?? []) {
    if (item['rule']) c.rules++;
    else if (item['chain']) c.chains++;
    else if (item['set']) {
      c.sets++;
      c.setElements += item['set'].elem?.length ?? 0;
    } else if (item['map']) {
      c.maps++;
      c.mapElements += item['map'].elem?.length ?? 0;
    }
  }
  for (const line of text.split('\n')) {
    const t = line.trim();
    // Declarations (table, chain, set, map, named counter) open a block: `… { # handle N`; rules do not.
    if (/# handle \d+$/.test(t) && !/\{ # handle \d+$/.test(t)) c.rulesText++;
  }
  return c;
}

// ---------------------------------------------------------------- nft monitor

export interface ElementEvent {
  at: number;
  op: 'add' | 'delete';
  set: string;
  elements: string[];
}

/**
 * `nft monitor elements` in one namespace: every element the kernel adds to
 * or deletes from any set or map, time-stamped when the line reaches us.
 */
export class ElementMonitor {
  readonly events: ElementEvent[] = [];
  private child: ChildProcess;
  private buf = '';
  private waiters: Array<() => void> = [];
  private exitedCode: number | null | undefined;
  private stderr = '';

  constructor(readonly ns: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, 'nft', 'monitor', 'elements'], { stdio: ['ignore', 'pipe', 'pipe'] });
    liveMonitors.add(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => this.onData(d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    this.child.once('exit', (code) => {
      this.exitedCode = code;
      liveMonitors.delete(this.child);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  private onData(d: string): void {
    const at = wall();
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      const m = /^(add|delete) element \S+ \S+ (\S+) \{ (.*) \}$/.exec(line);
      if (m) this.events.push({ at, op: m[1] as 'add' | 'delete', set: m[2]!, elements: m[3]!.split(',').map((e) => e.trim()) });
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** The first event at index ≥ `from` that does `op` with `element` in `set`, waiting up to `timeoutMs`. */
  async waitFor(op: 'add' | 'delete', set: string, element: string, from: number, timeoutMs: number): Promise<ElementEvent> {
    const deadline = Date.now() + timeoutMs;
    let scanned = from;
    for (;;) {
      for (; scanned < this.events.length; scanned++) {
        const e = this.events[scanned]!;
        if (e.op === op && e.set === set && e.elements.includes(element)) return e;
      }
      if (this.exitedCode !== undefined) throw new Error(`nft monitor in ${this.ns} exited (${this.exitedCode}): ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.ns}: no "${op} element ${set} { ${element} }" within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Events at index ≥ from touching `element` of `set`. */
  count(set: string, element: string, from: number): number {
    return this.events.slice(from).filter((e) => e.set === set && e.elements.includes(element)).length;
  }

  async stop(): Promise<void> {
    if (this.exitedCode !== undefined) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
}

const liveMonitors = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of liveMonitors) c.kill('SIGKILL');
});

/** Start one monitor per host and give them time to subscribe. */
export async function startMonitors(hosts: Hypervisor[]): Promise<Map<string, ElementMonitor>> {
  const out = new Map(hosts.map((h) => [h.id, new ElementMonitor(h.ns.name)] as const));
  await sleep(1000);
  return out;
}

// ---------------------------------------------------------------- scratch nft baseline

export interface ScratchTiming {
  addMs: number[];
  deleteMs: number[];
  listMs: number[];
}

/** `count` distinct IPv4 addresses from 100.64.0.1 up (never in the lab's subnets). */
export const scratchAddress = (i: number): string => `100.${64 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;

/**
 * The kernel operation alone: in a fresh namespace of the lab, a table with
 * one ipv4_addr set of `size` elements; then `samples` times `nft add
 * element` of one address and `nft delete element` of it, each one process
 * run through `ip netns exec` as the agent runs it, and `nft -j list table`
 * (what the agent reads before each plan).
 */
export async function scratchNft(lab: Lab, tag: string, size: number, samples: number): Promise<ScratchTiming> {
  const ns = await labNetns(lab, `nft${tag}`);
  try {
    const run = (args: string[], input?: string): Promise<string> => sh(['ip', 'netns', 'exec', ns.name, 'nft', ...args], input === undefined ? {} : { input });
    await run(['add', 'table', 'inet', 'scratch']);
    await run(['add', 'set', 'inet', 'scratch', 's', '{ type ipv4_addr; }']);
    const lines: string[] = [];
    for (let k = 0; k < size; k += 1000) {
      const es: string[] = [];
      for (let i = k; i < Math.min(size, k + 1000); i++) es.push(scratchAddress(i));
      lines.push(`add element inet scratch s { ${es.join(', ')} }`);
    }
    if (lines.length) await run(['-f', '-'], `${lines.join('\n')}\n`);
    const t: ScratchTiming = { addMs: [], deleteMs: [], listMs: [] };
    for (let s = 0; s < samples; s++) {
      const ip = scratchAddress(size + 1 + s);
      let t0 = performance.now();
      await run(['add', 'element', 'inet', 'scratch', 's', `{ ${ip} }`]);
      t.addMs.push(performance.now() - t0);
      t0 = performance.now();
      await run(['delete', 'element', 'inet', 'scratch', 's', `{ ${ip} }`]);
      t.deleteMs.push(performance.now() - t0);
    }
    for (let s = 0; s < Math.min(samples, 5); s++) {
      const t0 = performance.now();
      await run(['-j', 'list', 'table', 'inet', 'scratch']);
      t.listMs.push(performance.now() - t0);
    }
    const n = await setSize(ns.name, 'inet', 'scratch', 's');
    if (n !== size) throw new Error(`scratch set has ${n} elements, expected ${size}`);
    return t;
  } finally {
    await ns.delete();
  }
}

/** Wall ms of `nft -j list table inet strata` and `bridge strata` in a hypervisor (read only): what an agent reads per reconcile. */
export async function readTablesMs(h: Hypervisor, samples: number): Promise<number[]> {
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    await sh(['ip', 'netns', 'exec', h.ns.name, 'nft', '-j', 'list', 'table', 'inet', 'strata'], { timeoutMs: 60_000 });
    await sh(['ip', 'netns', 'exec', h.ns.name, 'nft', '-j', 'list', 'table', 'bridge', 'strata'], { timeoutMs: 60_000 });
    out.push(performance.now() - t0);
  }
  return out;
}

// ---------------------------------------------------------------- CPU

/** utime+stime of a process and of the children it has reaped (the agents' ip/bridge/nft runs), seconds. */
export function cpuSeconds(pid: number): number {
  const c = cpuSplit(pid);
  return c.self + c.children;
}

/**
 * The same, split: the process itself, and its children: reaped ones (short
 * commands such as `nft`, `ip`) and live descendants (long-lived workers such
 * as the agent's nft worker and `ip monitor`), seconds.
 */
export function cpuSplit(pid: number): { self: number; children: number } {
  try {
    const c = procCpu(pid);
    return { self: c.self, children: c.children + liveDescendantsCpu(pid) };
  } catch {
    return { self: NaN, children: NaN };
  }
}

/** CPU seconds of a process's live descendants (their own and their reaped children's). */
function liveDescendantsCpu(pid: number): number {
  const children = childrenByParent();
  let total = 0;
  const walk = (p: number): void => {
    for (const child of children.get(p) ?? []) {
      try {
        const c = procCpu(child);
        total += c.self + c.children;
      } catch {
        // exited meanwhile: its CPU is in its parent's reaped-children figure
      }
      walk(child);
    }
  };
  walk(pid);
  return total;
}

/** Parent PID → child PIDs of every process (this kernel has no /proc/<pid>/task/<tid>/children). */
function childrenByParent(): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = out.get(ppid);
      if (list) list.push(Number(d));
      else out.set(ppid, [Number(d)]);
    } catch {
      // gone
    }
  }
  return out;
}

/** PIDs of this process's children running `services/<name>/dist/main.js` (the lab's control plane). */
export function serviceChildPids(names: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      for (const n of names) if (cmd.includes(`services/${n}/dist/main.js`)) out.set(n, Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

// ---------------------------------------------------------------- control plane

/** Wait until the secgroup port reactor's durable consumer has nothing pending (all PortCreated handled). */
export async function reactorDrained(lab: Lab, timeoutMs = 600_000): Promise<void> {
  // The reactor's durable consumer is visible to its owner and the operator only (infra/nats/render-accounts.mjs).
  const admin = await lab.natsUsers.connect('admin');
  try {
    const jsm = await admin.jetstreamManager();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await jsm.consumers.info('STRATA_EVENTS', 'secgroup-port-reactor').catch(() => undefined);
      if (info && info.num_pending === 0 && info.num_ack_pending === 0) return;
      if (Date.now() > deadline) throw new Error(`port reactor not drained: ${info ? `${info.num_pending} pending, ${info.num_ack_pending} unacked` : 'no consumer'}`);
      await sleep(500);
    }
  } finally {
    await admin.close();
  }
}

/** Wait until no agent has logged an "applied" reconcile for `quietMs` (bounded). */
export async function agentsQuiet(lab: Lab, quietMs = 1500, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const counts = (): string => lab.hosts.map((h) => (h.agent ? appliedLines(h.agent).length : 0)).join(',');
  let last = counts();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error('agents did not settle');
    await sleep(200);
    const now = counts();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

// ---------------------------------------------------------------- the membership topology

export interface Topology {
  who: Principal;
  web: SecurityGroupView;
  app: SecurityGroupView;
  idle: SecurityGroupView;
  /** One per host, in app: every host references web's sets. */
  appPorts: PortView[];
  /** Member candidates; pool[i] is bound to host i mod N (or unbound). */
  pool: PortView[];
  /** Ports of the pool currently in web (the rest are in idle). */
  inWeb: number;
}

export type MemberPlacement = 'bound' | 'unbound';

/**
 * The topology of sg-membership and sg-rulecount. One tenant; one network
 * per hypervisor (10.(64+i).0.0/16, so that no host needs another host's
 * network and gets its ports as endpoints: only security groups connect the
 * hosts); groups
 *
 *   web   the referenced group (one rule: egress IPv4 any)
 *   app   ingress tcp 9000 from group web (+ egress IPv4 any); one port per host
 *   idle  where pool ports wait (egress IPv4 any, like web): moving a port
 *         idle → web changes membership and nothing else on its host
 *
 * and `poolSize` member ports, port i in host i's network (mod N), bound to
 * that host or unbound. The first `initialInWeb` go to web, the rest to idle.
 */
export async function buildTopology(lab: Lab, o: { poolSize: number; initialInWeb: number; placement: MemberPlacement; concurrency: number }): Promise<Topology> {
  const who: Principal = { tenant: 'bench-sg', admin: false };
  const group = async (name: string): Promise<SecurityGroupView> => {
    const g = await lab.secgroup.command('group.create', { name, description: `sg bench ${name}` }, who);
    await lab.secgroup.command('rule.create', { groupId: g.id, direction: 'egress', ethertype: 'IPv4', protocol: 'any' }, who);
    return g;
  };
  const web = await group('web');
  const app = await group('app');
  const idle = await group('idle');
  await lab.secgroup.command('rule.create', { groupId: app.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 9000, portMax: 9000, remoteGroupId: web.id }, who);

  const nets: string[] = [];
  for (let i = 0; i < lab.hosts.length; i++) {
    const net = await lab.ipam.command('network.create', { name: `sg-net-${i + 1}` }, who);
    await lab.ipam.command('subnet.create', { networkId: net.id, name: `sg-net-${i + 1}-v4`, cidr: `10.${64 + i}.0.0/16` }, who);
    nets.push(net.id);
  }
  const appPorts: PortView[] = [];
  for (let i = 0; i < lab.hosts.length; i++) {
    const p = await lab.ipam.command('port.create', { networkId: nets[i]!, name: `app-${i + 1}`, hostId: lab.hosts[i]!.id }, who);
    await lab.secgroup.command('port.setGroups', { portId: p.id, groupIds: [app.id] }, who);
    appPorts.push(p);
  }
  const pool: PortView[] = new Array(o.poolSize);
  const t0 = performance.now();
  await runPool(o.poolSize, o.concurrency, async (i) => {
    const h = i % lab.hosts.length;
    const p = await lab.ipam.command('port.create', { networkId: nets[h]!, name: `m-${i}`, hostId: o.placement === 'bound' ? lab.hosts[h]!.id : null }, who);
    await lab.secgroup.command('port.setGroups', { portId: p.id, groupIds: [i < o.initialInWeb ? web.id : idle.id] }, who);
    pool[i] = p;
    if ((i + 1) % 2000 === 0) log(`  ${i + 1}/${o.poolSize} pool ports created`);
  });
  log(`pool of ${o.poolSize} ports (${o.placement}) created and grouped in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await reactorDrained(lab);
  return { who, web, app, idle, appPorts, pool, inWeb: o.initialInWeb };
}

/** Move pool ports [t.inWeb, n) from idle into web. */
export async function growWeb(lab: Lab, t: Topology, n: number, concurrency: number): Promise<void> {
  const from = t.inWeb;
  if (n <= from) return;
  const t0 = performance.now();
  await runPool(n - from, concurrency, async (k) => {
    await lab.secgroup.command('port.setGroups', { portId: t.pool[from + k]!.id, groupIds: [t.web.id] }, t.who);
  });
  t.inWeb = n;
  log(`web grown ${from} → ${n} members in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** Wait until `web`'s IPv4 set has `n` elements on every host (polled every 2 s, bounded). */
export async function webSetSizeEverywhere(lab: Lab, t: Topology, n: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...lab.hosts];
  while (pending.length) {
    const sizes = await Promise.all(pending.map((h) => setSize(h.ns.name, 'inet', 'strata', setName(t.web.id))));
    const next = pending.filter((_, i) => sizes[i] !== n);
    if (next.length === 0) return;
    if (Date.now() > deadline) throw new Error(`web set not at ${n} elements on ${next.map((h) => h.id).join(',')}: ${sizes.join(',')}`);
    pending = next;
    await sleep(2000);
  }
}

/**
 * Stop every agent (SIGTERM by PID; the data plane stays as it is): bulk
 * set-up changes are then applied by each restarted agent's first reconcile,
 * a diff against the kernel it left, instead of by every agent chasing
 * thousands of puts on a shared 2-core machine.
 */
export async function stopAgents(lab: Lab): Promise<void> {
  await Promise.all(lab.hosts.map((h) => h.agent?.stop(10_000)));
}

/** Start every hypervisor's agent (for a lab started with `agents: false`, or after stopAgents). */
export async function startAgents(lab: Lab): Promise<void> {
  await Promise.all(lab.hosts.map((h) => lab.startAgent(h)));
}
