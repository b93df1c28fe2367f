/**
 * DHCP for routing domains: one dnsmasq per domain namespace, static leases
 * only, bound to the domain's gateway interfaces, no DNS service of its own
 * (a subnet's DNS servers are handed out as option 6, its host routes as
 * option 121). A subnet with DHCP off has no range: nothing is served on it.
 * A changed static lease (a port's fixed IP moved) is a hosts-file change:
 * SIGHUP, and the client's next renewal of its old address is refused
 * (DHCPNAK, `dhcp-authoritative`), so it asks again and gets the new one.
 *
 * State lives in `<stateDir>/dnsmasq/<ns>.{conf,hosts,pid,leases,log}`; the
 * PID file is the record of what runs, so an agent restart adopts running
 * servers instead of starting duplicates. A PID counts as ours only while
 * /proc/<pid>/cmdline names our config file (PIDs are reused). A server
 * serves its domain only while it is inside the namespace that now has the
 * domain's name: one left in a namespace whose name was deleted (drift, a
 * crash half-way) is stopped and replaced, or it would hold that namespace
 * alive, hidden. Processes are only ever signalled by PID.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DhcpSpec } from '../core/desired.js';
import { rangeMode, type Dhcp6Spec } from '../core/dhcp6.js';
import type { Exec } from './exec.js';

export interface DnsmasqPaths {
  conf: string;
  hosts: string;
  pid: string;
  leases: string;
  log: string;
}

export const dnsmasqPaths = (stateDir: string, ns: string): DnsmasqPaths => {
  const base = join(stateDir, 'dnsmasq', ns);
  return { conf: `${base}.conf`, hosts: `${base}.hosts`, pid: `${base}.pid`, leases: `${base}.leases`, log: `${base}.log` };
};

export function renderConfig(spec: DhcpSpec, paths: DnsmasqPaths): string {
  const lines = [
    `# strata-agent: DHCP for routing domain ${spec.domainId}; generated, do not edit`,
    'port=0',
    'no-resolv',
    'no-hosts',
    'bind-interfaces',
    ...spec.interfaces.map((i) => `interface=${i}`),
    // Runs as root: the state directory need not be readable by an unprivileged user.
    'user=root',
    'dhcp-authoritative',
    // The DHCP broadcast is BUM: it also reaches the other hosts of the network, whose servers
    // (same anycast gateway, same server id) must stay silent, not NAK: only known clients get answers.
    'dhcp-ignore=tag:!known',
    'log-dhcp',
    `log-facility=${paths.log}`,
    `pid-file=${paths.pid}`,
    `dhcp-leasefile=${paths.leases}`,
    `dhcp-hostsfile=${paths.hosts}`,
  ];
  for (const s of spec.subnets) {
    lines.push(`dhcp-range=set:${s.tag},${s.network},static,${s.netmask},${s.leaseSeconds}`);
    if (s.router !== null) lines.push(`dhcp-option=tag:${s.tag},option:router,${s.router}`);
    lines.push(`dhcp-option=tag:${s.tag},option:mtu,${s.mtu}`);
    if (s.dnsServers.length > 0) lines.push(`dhcp-option=tag:${s.tag},option:dns-server,${s.dnsServers.join(',')}`);
    if (s.classlessRoutes.length > 0) {
      lines.push(`dhcp-option=tag:${s.tag},option:classless-static-route,${s.classlessRoutes.map((r) => `${r.destination},${r.nexthop}`).join(',')}`);
    }
  }
  if (spec.v6) lines.push(...renderV6(spec.v6));
  return `${lines.join('\n')}\n`;
}

/**
 * RAs and DHCPv6 (core/dhcp6.ts). With DNS off (port=0) dnsmasq puts no
 * RDNSS of its own in its RAs, only a subnet's DNS servers (option6:dns-server); the RA interval is 60 s (new VMs solicit anyway), the
 * router lifetime dnsmasq's default 1800 s, the MTU the network's.
 */
function renderV6(v6: Dhcp6Spec): string[] {
  const lines = [`dhcp-duid=${v6.serverDuid}`];
  if (v6.enableRa) lines.push('enable-ra');
  for (const r of v6.raParams) lines.push(`ra-param=${r.iface},mtu:${r.mtu},60,1800`);
  for (const s of v6.subnets) {
    lines.push(`dhcp-range=set:${s.tag},${s.network},${rangeMode(s)},${s.length},${s.leaseSeconds}`);
    if (s.dnsServers.length > 0) lines.push(`dhcp-option=tag:${s.tag},option6:dns-server,${s.dnsServers.map((ip) => `[${ip}]`).join(',')}`);
  }
  return lines;
}

/** dhcp-hostsfile: one `mac[,ip...]` line per port, IPv6 addresses in brackets (re-read on SIGHUP). */
export const renderHosts = (spec: DhcpSpec): string =>
  spec.hosts.map((h) => `${[h.mac, ...h.ips.map((ip) => (ip.includes(':') ? `[${ip}]` : ip))].join(',')}\n`).join('');

/** Process control, injectable for tests. */
export interface ProcessControl {
  /** The process exists, is not a zombie, and its command line contains `marker`. */
  alive(pid: number, marker: string): boolean;
  /** The process is in the network namespace named `ns` (/run/netns/<ns>), not in another or a deleted one. */
  inNamespace(pid: number, ns: string): boolean;
  signal(pid: number, sig: NodeJS.Signals): void;
  sleep(ms: number): Promise<void>;
}

export const procfs: ProcessControl = {
  alive(pid, marker) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/\) [ZX] /.test(stat)) return false;
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.includes(marker));
    } catch {
      return false;
    }
  },
  inNamespace(pid, ns) {
    try {
      return readlinkSync(`/proc/${pid}/ns/net`) === `net:[${statSync(`/run/netns/${ns}`).ino}]`;
    } catch {
      return false;
    }
  },
  signal(pid, sig) {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  },
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export interface DnsmasqManagerOptions {
  exec: Exec;
  stateDir: string;
  /** Only PID files of namespaces with this prefix are this agent's. */
  nsPrefix: string;
  binary?: string;
  proc?: ProcessControl;
  /** How long a starting server may take to write its PID file (default 5 s). */
  startTimeoutMs?: number;
}

export class DnsmasqError extends Error {
  override readonly name = 'DnsmasqError';
}

export class DnsmasqManager {
  private readonly dir: string;
  private readonly proc: ProcessControl;
  private readonly binary: string;

  constructor(private readonly o: DnsmasqManagerOptions) {
    this.dir = join(o.stateDir, 'dnsmasq');
    this.proc = o.proc ?? procfs;
    this.binary = o.binary ?? '/usr/sbin/dnsmasq';
  }

  /** Namespaces with a PID file of ours, and the live PID (or null). */
  running(): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const ns of this.knownNamespaces()) out[ns] = this.livePid(ns);
    return out;
  }

  /** Stop servers of domains that are gone. Run before the kernel apply: a server keeps its namespace alive. */
  async stopStale(specs: Record<string, DhcpSpec>): Promise<void> {
    for (const ns of this.knownNamespaces()) {
      if (specs[ns]) continue;
      await this.stop(ns);
      const p = dnsmasqPaths(this.o.stateDir, ns);
      for (const f of Object.values(p)) rmSync(f, { force: true });
    }
  }

  /** Make each domain's server run with its current config; SIGHUP when only the leases changed. */
  async sync(specs: Record<string, DhcpSpec>): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const errors: string[] = [];
    for (const spec of Object.values(specs)) {
      try {
        await this.syncOne(spec);
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
    }
    if (errors.length > 0) throw new DnsmasqError(errors.join('; '));
  }

  private async syncOne(spec: DhcpSpec): Promise<void> {
    const p = dnsmasqPaths(this.o.stateDir, spec.ns);
    const conf = renderConfig(spec, p);
    const hosts = renderHosts(spec);
    const confChanged = readOr(p.conf) !== conf;
    const hostsChanged = readOr(p.hosts) !== hosts;
    if (hostsChanged) writeAtomic(p.hosts, hosts);
    if (confChanged) writeAtomic(p.conf, conf);
    let pid = this.livePid(spec.ns);
    if (pid !== null && !this.proc.inNamespace(pid, spec.ns)) {
      // Its namespace lost its name (the apply just made a new one): it serves nobody and keeps the old one alive.
      await this.stop(spec.ns);
      pid = null;
    }
    if (pid !== null && !confChanged) {
      if (hostsChanged) this.proc.signal(pid, 'SIGHUP');
      return;
    }
    if (pid !== null) await this.stop(spec.ns);
    await this.start(spec.ns, p);
  }

  private async start(ns: string, p: DnsmasqPaths): Promise<void> {
    rmSync(p.pid, { force: true });
    const pid = this.o.exec.spawnDetached(['ip', 'netns', 'exec', ns, this.binary, '--keep-in-foreground', `--conf-file=${p.conf}`], {
      logFile: p.log,
    });
    const deadline = Date.now() + (this.o.startTimeoutMs ?? 5_000);
    // dnsmasq writes its PID file once it has bound its sockets.
    while (Date.now() < deadline) {
      const written = Number(readOr(p.pid).trim());
      if (written > 0 && this.proc.alive(written, p.conf)) return;
      // Any live process counts here: between fork and exec its command line is still the agent's.
      if (!this.proc.alive(pid, '')) break;
      await this.proc.sleep(25);
    }
    this.proc.signal(pid, 'SIGKILL');
    throw new DnsmasqError(`dnsmasq for ${ns} did not start: ${tail(readOr(p.log))}`);
  }

  private async stop(ns: string): Promise<void> {
    const pid = this.livePid(ns);
    if (pid === null) return;
    const marker = dnsmasqPaths(this.o.stateDir, ns).conf;
    this.proc.signal(pid, 'SIGTERM');
    for (let i = 0; i < 200 && this.proc.alive(pid, marker); i++) await this.proc.sleep(25);
    if (this.proc.alive(pid, marker)) this.proc.signal(pid, 'SIGKILL');
  }

  private livePid(ns: string): number | null {
    const p = dnsmasqPaths(this.o.stateDir, ns);
    const pid = Number(readOr(p.pid).trim());
    return pid > 0 && this.proc.alive(pid, p.conf) ? pid : null;
  }

  private knownNamespaces(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.startsWith(this.o.nsPrefix) && (f.endsWith('.pid') || f.endsWith('.conf')))
      .map((f) => f.replace(/\.(pid|conf)$/, ''))
      .filter((ns, i, all) => all.indexOf(ns) === i)
      .sort();
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function writeAtomic(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

const tail = (s: string): string => s.trim().split('\n').slice(-5).join(' | ');
