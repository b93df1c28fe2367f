/**
 * Evidence that the data plane was never flushed, for the fail-static tests:
 * what the kernel says while it happens (`ip monitor`, `bridge monitor fdb`,
 * `nft monitor` in every hypervisor and routing-domain namespace of the lab)
 * and a fingerprint of what it holds (nftables objects with their handles,
 * links with their ifindexes, permanent neighbours, static FDB entries,
 * routes), which a delete-and-re-add would change.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { namespacesWithPrefix, sh, type Lab } from '@strata/lab';

/** The lab's hypervisor namespaces and the routing-domain namespaces its agents made in them. */
const kernelNamespaces = (lab: Lab): string[] => namespacesWithPrefix(lab.prefix).filter((n) => /^hv\d+(-|$)/.test(n.slice(lab.prefix.length))).sort();

/**
 * A deletion the agent (or a flush) made, as the monitors print it: `nft
 * monitor`'s `delete …`, `ip`/`bridge monitor`'s `Deleted …`. The kernel's own
 * housekeeping is not one: a neighbour it made going (learned ones ageing
 * out, multicast NOARP ones; the agent's are PERMANENT) or a learned FDB entry (the
 * agent's are static or permanent), nor the underlay's routes going with
 * its link.
 */
export function isDeletion(line: string): boolean {
  const l = line.trim();
  if (/^delete /.test(l)) return true;
  if (!l.startsWith('Deleted ')) return false;
  // The underlay link is the host's, not Strata's: a test that cuts it sees its routes go.
  if (/ dev eth0\b/.test(l)) return false;
  if (/ lladdr /.test(l) && !/\bPERMANENT\b/.test(l)) return false;
  if (/ master /.test(l) && !/\b(static|permanent)\b/.test(l)) return false;
  return true;
}

/** Monitors in every kernel namespace of the lab, from now until `stop()`. */
export class KernelWatch {
  private readonly children: { ns: string; child: ChildProcess; out: string[] }[] = [];

  static async start(lab: Lab): Promise<KernelWatch> {
    const w = new KernelWatch();
    for (const ns of kernelNamespaces(lab)) {
      for (const argv of [['ip', 'monitor', 'link', 'address', 'route', 'neigh'], ['bridge', 'monitor', 'fdb'], ['nft', 'monitor']]) {
        const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
        const entry = { ns, child, out: [] as string[] };
        child.stdout!.on('data', (c: Buffer) => entry.out.push(c.toString()));
        w.children.push(entry);
      }
    }
    // The monitors subscribe as they start; a deletion before that would be missed.
    await new Promise((r) => setTimeout(r, 300));
    return w;
  }

  /** Stop the monitors; every deletion they saw, prefixed with its namespace. */
  async stop(): Promise<string[]> {
    const deletions: string[] = [];
    for (const { ns, child, out } of this.children) {
      const exited = new Promise((r) => child.once('exit', r));
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      for (const line of out.join('').split('\n')) if (isDeletion(line)) deletions.push(`${ns}: ${line.trim()}`);
    }
    return deletions;
  }
}

/**
 * What the kernel holds for Strata in every hypervisor and domain namespace,
 * in a form that changes when anything is deleted and re-added: nftables with
 * rule handles (counters' values left out: traffic moves them), links with
 * ifindexes, permanent neighbours, static FDB entries, routes.
 */
export async function kernelFingerprint(lab: Lab): Promise<Record<string, string>> {
  const script = 'nft -a list ruleset; echo @@; ip -o link show; echo @@; ip neigh show nud permanent; echo @@; bridge fdb show; echo @@; ip route show table all; ip -6 route show table all';
  const entries = await Promise.all(
    kernelNamespaces(lab).map(async (ns) => {
      const [nft = '', links = '', neigh = '', fdb = '', routes = ''] = (await sh(['ip', 'netns', 'exec', ns, 'sh', '-c', script])).split('@@\n');
      const lines = (text: string, keep: (l: string) => boolean): string => text.split('\n').filter(keep).join('\n');
      return [
        ns.slice(lab.prefix.length),
        [
          nft.replace(/packets \d+ bytes \d+/g, 'packets _ bytes _'),
          links.split('\n').map((l) => l.split(' ').slice(0, 2).join(' ')).join('\n'),
          neigh,
          lines(fdb, (l) => /\b(static|permanent)\b/.test(l)),
          // Routes of the underlay (eth0, the host's) move with its link; Strata's are on its own devices.
          lines(routes, (l) => !/ dev eth0\b/.test(l)),
        ].join('\n--\n'),
      ] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * A TCP relay in front of NATS for one agent: its control connection as if it
 * crossed the hypervisor's underlay. `cut()` drops it (established
 * connections reset, new ones refused), `restore()` brings it back on the
 * same port.
 */
export class TcpRelay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor(private readonly target: number) {}

  static async start(targetPort: number): Promise<TcpRelay> {
    const r = new TcpRelay(targetPort);
    await r.listen();
    return r;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  private listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = new Socket();
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      upstream.connect(this.target, '127.0.0.1');
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.resetAndDestroy();
    if (server) await new Promise((r) => server.close(r));
  }

  async restore(): Promise<void> {
    if (!this.server) await this.listen();
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}
