/**
 * The BGP lab of the gateway's integration tests and benchmarks, all in network namespaces this file
 * creates (names `bg<6 hex>-<role>`) and deletes, also on failure:
 *
 *   <id>-tor   FRR (zebra + bgpd): the ToR/border. Bridge br0 with
 *              198.18.0.1/24 (underlay) and 198.19.1.1/24, 198.19.2.1/24
 *              (the appliance subnets); sends the gateways a default route.
 *   <id>-gw1   gobgpd of gateway instance 1: 198.18.0.2, 198.19.1.2, 198.19.2.2
 *   <id>-gw2   gobgpd of gateway instance 2: 198.18.0.3, 198.19.1.3, 198.19.2.3
 *   <id>-app…  FRR appliances on the same segment.
 *
 * gobgpd serves its gRPC API on a Unix socket in a per-run directory, so the
 * gateway processes (and nats-server) run in the root namespace without any
 * route or address there: the socket crosses into the namespace through the
 * file system. Every process is started here, tracked by PID and stopped by
 * PID; FRR runs in the foreground for that reason.
 */
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { deleteAll, Netns } from './netns.js';
import { startProcess, type ManagedProcess } from './process.js';
import { sh } from './sh.js';
import { embedIpv4, parsePrefix } from '@strata/netaddr';
import { waitFor } from '@strata/testing';

export const TOR_AS = 65001;
export const GATEWAY_AS = 65000;
export const APPLIANCE_AS = 65100;
export const TOR = '198.18.0.1';
/** The underlay's IPv6 /96 (BGP_IPV6_NEXTHOP_PREFIX): an IPv6 route's next hop is the VTEP embedded in it; the ToR has 198.18.0.1's. */
export const UNDERLAY6 = '2001:db8:ffff::/96';
/** A machine's underlay IPv6 address: its IPv4 underlay address embedded in UNDERLAY6 (what the gateway writes as an IPv6 next hop). */
export const underlay6 = (ipv4: string): string => embedIpv4(parsePrefix(UNDERLAY6), ipv4);
export const GW = ['198.18.0.2', '198.18.0.3'] as const;
/** The gateways' addresses in appliance subnet n (1 or 2). */
export const gwInSubnet = (subnet: number): string[] => [`198.19.${subnet}.2`, `198.19.${subnet}.3`];

const frrIds = (): { uid: number; gid: number } => {
  const uid = Number(execFileSync('id', ['-u', 'frr']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'frr']).toString().trim());
  return { uid, gid };
};

export class Frr {
  private readonly daemons: ManagedProcess[] = [];
  constructor(
    readonly ns: string,
    readonly dir: string,
  ) {}

  static async start(ns: string, dir: string, config: string): Promise<Frr> {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'frr.conf'), config);
    const { uid, gid } = frrIds();
    chownSync(dir, uid, gid);
    chownSync(join(dir, 'frr.conf'), uid, gid);
    const frr = new Frr(ns, dir);
    const common = ['-f', join(dir, 'frr.conf'), '-z', join(dir, 'zserv.api'), '--vty_socket', dir, '-A', '127.0.0.1'];
    const run = (daemon: string, extra: string[]): ManagedProcess =>
      startProcess(`${ns}-${daemon}`, ['ip', 'netns', 'exec', ns, `/usr/lib/frr/${daemon}`, ...common, '-i', join(dir, `${daemon}.pid`), ...extra], { readyWhen: /./ });
    frr.daemons.push(run('zebra', []));
    await waitFor(() => sh(['test', '-S', join(dir, 'zserv.api')]).then(() => true, () => false), { timeoutMs: 15_000, intervalMs: 50, message: `zebra in ${ns}` });
    frr.daemons.push(run('bgpd', ['-p', '179']));
    await waitFor(() => frr.vtysh('show bgp summary json').then(() => true, () => false), { timeoutMs: 15_000, intervalMs: 100, message: `bgpd in ${ns}` });
    return frr;
  }

  vtysh(...commands: string[]): Promise<string> {
    return sh(['vtysh', '--vty_socket', this.dir, ...commands.flatMap((c) => ['-c', c])]);
  }

  async json<T>(command: string): Promise<T> {
    return JSON.parse(await this.vtysh(command)) as T;
  }

  /** BGP session state with `peer` as FRR sees it. */
  async sessionState(peer: string): Promise<string> {
    const s = await this.json<{ ipv4Unicast?: { peers?: Record<string, { state: string }> } }>('show bgp summary json');
    return s.ipv4Unicast?.peers?.[peer]?.state ?? 'none';
  }

  async stop(): Promise<void> {
    for (const d of this.daemons.reverse()) await d.stop(5_000);
    this.daemons.length = 0;
  }
}

export class BgpFabric {
  readonly id = `bg${randomBytes(3).toString('hex')}`;
  readonly dir = join(tmpdir(), `strata-${this.id}`);
  tor!: Frr;
  private readonly gobgpds = new Map<string, ManagedProcess>();
  private readonly frrs: Frr[] = [];

  ns(role: string): string {
    return `${this.id}-${role}`;
  }

  socket(gw: number): string {
    return join(this.dir, `gw${gw}`, 'gobgp.sock');
  }

  /** Namespaces, links, the ToR and both gobgpds (`gateways`: how many gateway namespaces, 1 or 2). */
  async start(gateways = 2): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const tor = await Netns.create(this.ns('tor'));
    await tor.ip(['link', 'add', 'br0', 'type', 'bridge']);
    for (const a of [`${TOR}/24`, '198.19.1.1/24', '198.19.2.1/24']) await tor.ip(['addr', 'add', a, 'dev', 'br0']);
    await tor.ip(['-6', 'addr', 'add', `${underlay6(TOR)}/96`, 'dev', 'br0', 'nodad']);
    await tor.ip(['link', 'set', 'br0', 'up']);
    await tor.exec(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    for (const [i, gw] of GW.slice(0, gateways).entries()) {
      const ns = await this.attach(`gw${i + 1}`, [`${gw}/24`, ...gwInSubnet(1).slice(i, i + 1).map((a) => `${a}/24`), ...gwInSubnet(2).slice(i, i + 1).map((a) => `${a}/24`)]);
      mkdirSync(join(this.dir, `gw${i + 1}`), { recursive: true });
      await this.startGobgpd(i + 1, ns.name);
    }
    this.tor = await Frr.start(this.ns('tor'), join(this.dir, 'tor'), torConfig(GW.slice(0, gateways)));
    this.frrs.push(this.tor);
  }

  /** A namespace with one veth into the ToR's bridge carrying `addresses` (the first subnet's .1 as default route for appliances). */
  async attach(role: string, addresses: string[], gateway?: string): Promise<Netns> {
    const ns = await Netns.create(this.ns(role));
    const torSide = this.torSide(role);
    await sh(['ip', '-n', this.ns('tor'), 'link', 'add', torSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
    await sh(['ip', '-n', this.ns('tor'), 'link', 'set', torSide, 'master', 'br0', 'up']);
    for (const a of addresses) await ns.ip(['addr', 'add', a, 'dev', 'eth0']);
    await ns.ip(['link', 'set', 'eth0', 'up']);
    if (gateway) await ns.ip(['route', 'add', 'default', 'via', gateway]);
    return ns;
  }

  private torSide(role: string): string {
    return `v${role}`.slice(0, 15);
  }

  async startGobgpd(gw: number, ns = this.ns(`gw${gw}`)): Promise<ManagedProcess> {
    rmSync(this.socket(gw), { force: true });
    const p = startProcess(`gobgpd-gw${gw}`, ['ip', 'netns', 'exec', ns, 'gobgpd', '-p', `--api-hosts=unix://${this.socket(gw)}`, '--pprof-disable'], {
      readyWhen: /gobgpd started/,
    });
    await p.ready;
    this.gobgpds.set(`gw${gw}`, p);
    return p;
  }

  gobgpd(gw: number): ManagedProcess {
    return this.gobgpds.get(`gw${gw}`)!;
  }

  /** An appliance running FRR that peers with both gateways from `address` (in appliance subnet `subnet`). */
  async appliance(role: string, address: string, subnet: number, password: string, prefixes: string[]): Promise<Frr> {
    await this.attach(role, [`${address}/24`], `198.19.${subnet}.1`);
    const frr = await Frr.start(this.ns(role), join(this.dir, role), applianceConfig(address, gwInSubnet(subnet), password, prefixes));
    this.frrs.push(frr);
    return frr;
  }

  /** Stop the appliance's FRR and remove its namespace (it "moves" elsewhere). */
  async removeAppliance(role: string, frr: Frr): Promise<void> {
    await frr.stop();
    this.frrs.splice(this.frrs.indexOf(frr), 1);
    // Delete the veth from the ToR's side first: deleting the namespace frees its peer
    // asynchronously, and an appliance attached again under the same role right after
    // would find the ToR-side name still taken ("RTNETLINK: File exists").
    await sh(['ip', '-n', this.ns('tor'), 'link', 'del', this.torSide(role)]).catch(() => undefined);
    await new Netns(this.ns(role)).delete();
  }

  async stop(): Promise<void> {
    for (const f of this.frrs) await f.stop().catch(() => undefined);
    for (const g of this.gobgpds.values()) await g.stop(5_000).catch(() => undefined);
    await deleteAll(`${this.id}-`);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function torConfig(gateways: readonly string[]): string {
  // disable-connected-check: the gateways' routes carry hypervisors' VTEPs as next hops (third-party next
  // hops; on a real routed underlay not on the session's subnet).
  const neighbours = gateways.map((gw) => ` neighbor ${gw} remote-as ${GATEWAY_AS}\n neighbor ${gw} timers connect 5\n neighbor ${gw} disable-connected-check\n`).join('');
  const af = gateways.map((gw) => `  neighbor ${gw} default-originate\n`).join('');
  return `frr defaults traditional
hostname tor
log stdout informational
!
router bgp ${TOR_AS}
 bgp router-id ${TOR}
 no bgp ebgp-requires-policy
 no bgp network import-check
${neighbours} address-family ipv4 unicast
${af} exit-address-family
 ! IPv6 routes (routed networks, appliances' /64s), learned over the IPv4 sessions (MP-BGP; next hop:
 ! the hypervisor's underlay IPv6 address, its VTEP embedded in the underlay's /96).
 address-family ipv6 unicast
${gateways.map((gw) => `  neighbor ${gw} activate\n`).join('')} exit-address-family
!
`;
}

/** An appliance's FRR: IPv4 sessions with the gateways carrying IPv4 and IPv6 unicast; `prefixes` of either family. */
export function applianceConfig(address: string, gateways: string[], password: string, prefixes: string[]): string {
  const v4 = prefixes.filter((p) => !p.includes(':'));
  const v6 = prefixes.filter((p) => p.includes(':'));
  // Multihop: the gateway sits on the underlay, routed hops away from an appliance VM (one hop in BgpFabric).
  const neighbours = gateways
    .map((gw) => ` neighbor ${gw} remote-as ${GATEWAY_AS}\n neighbor ${gw} password ${password}\n neighbor ${gw} timers connect 5\n neighbor ${gw} ebgp-multihop 8\n`)
    .join('');
  return `frr defaults traditional
hostname appliance
log stdout informational
! The gateway is reached through the default route (a VM's only route out).
ip nht resolve-via-default
!
router bgp ${APPLIANCE_AS}
 bgp router-id ${address}
 no bgp ebgp-requires-policy
 no bgp network import-check
${neighbours} address-family ipv4 unicast
${v4.map((p) => `  network ${p}\n`).join('')} exit-address-family
 address-family ipv6 unicast
${gateways.map((gw) => `  neighbor ${gw} activate\n`).join('')}${v6.map((p) => `  network ${p}\n`).join('')} exit-address-family
!
`;
}

/** A route in a namespace's kernel table, e.g. `203.0.113.10 via 198.18.0.11 dev br0 proto bgp metric 20`. */
export async function kernelRoute(ns: string, prefix: string): Promise<string> {
  return (await sh(['ip', '-n', ns, 'route', 'show', prefix])).trim();
}
