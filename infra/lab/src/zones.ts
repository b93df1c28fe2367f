/**
 * Availability zones on one underlay (docs/architecture.md, "Availability
 * zones"), for end-to-end tests: one fabric namespace, and per zone a
 * complete Strata (`Lab`: its own NATS, services, agents) with its own
 * hypervisors plugged into that fabric, a BGP gateway (gobgpd in its own
 * namespace on the underlay, the gateway service beside the zone's control
 * plane), and one FRR route reflector all zones' gobgpds are clients of,
 * with TCP-MD5.
 *
 *   <p>fab           the underlay switch (bridge ul0), 198.18.0.0/24
 *   <p><zone>-hv<i>  the zone's hypervisors, 198.18.0.(10+i): numbers are global, so zone 2's
 *                    first hypervisor after zone 1's two is hv3 at 198.18.0.13
 *   <p>gw-<zone>     the zone's gobgpd, 198.18.0.(1+n) for the n-th zone
 *   <p>rr            the route reflector, 198.18.0.100, AS FEDERATION_AS: FRR, or gobgpd with
 *                    long-lived graceful restart (`reflector: 'gobgp'`, gobgp-reflector.ts),
 *                    which keeps a lost zone's EVPN routes (FRR 8.4 does not)
 *
 * Each zone's IPAM allocates VNIs from its own range; each zone's federation
 * configuration names the others (their hypervisors' /32s as VTEP prefixes,
 * their VNI ranges). `killControlPlane(zone)` crashes a zone's whole control
 * plane (NATS, services, BGP gateway and gobgpd: kill -9) while its agents
 * keep the data plane (fail static), `stopControlPlane(zone)` stops it
 * (SIGTERM everywhere); `restartControlPlane(zone)` brings it
 * back; `killBgp(zone)`/`restartBgp(zone)` the same for its gobgpd and BGP
 * gateway only. `destroy()` tears down every zone's lab, the gobgpds,
 * the reflector and every namespace with the prefix, also after a failure
 * in `start`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkView, SubnetView } from '@strata/contracts';
import { ADMIN, BgpClient, type Principal } from './control-client.js';
import { GATEWAY_AS } from './bgp-fabric.js';
import { Lab, type LabOptions } from './lab.js';
import { deleteAll, Netns } from './netns.js';
import { startProcess, type ManagedProcess } from './process.js';
import { GobgpReflector } from './gobgp-reflector.js';
import { RouteReflector } from './route-reflector.js';
import { sh } from './sh.js';
import { buildFabric, guardNamespaces, underlayIp } from './underlay.js';

export const FEDERATION_AS = 65500;
export const REFLECTOR_IP = '198.18.0.100';
/** The lab's TCP-MD5 secret of every zone's reflector session (`passwordRef: 'federation'`); lab only. */
export const LAB_FEDERATION_PASSWORD = 'lab-federation-md5';

export interface ZoneSpec {
  name: string;
  /** 1-65535: the zone's number (origin community, RD). */
  id: number;
  /** Global hypervisor numbers (`hv<i>` at 198.18.0.(10+i)). */
  hosts: readonly number[];
  /** The VNIs the zone's IPAM allocates. */
  vnis: { min: number; max: number };
}

export interface Zone {
  spec: ZoneSpec;
  lab: Lab;
  /** The zone's gobgpd's underlay address (its gateway's router id). */
  gatewayIp: string;
  /** Replaced by restartControlPlane. */
  bgp: BgpClient;
  gateway: ManagedProcess;
  gobgpd: ManagedProcess;
}

/** What the tests ask of the route reflector, whichever implementation. */
export interface Reflector {
  sessionState(client: string): Promise<string>;
  stop(): Promise<void>;
}

export interface ZonesOptions {
  /** The route reflector: FRR (default) or gobgpd with long-lived graceful restart (a lost zone's routes are kept). */
  reflector?: 'frr' | 'gobgp';
}

export class Zones {
  readonly prefix = `zn${randomBytes(3).toString('hex')}-`;
  readonly dir = join(tmpdir(), `${this.prefix}zones`);
  readonly zones: Zone[] = [];
  fabric!: Netns;
  rr!: Reflector;
  private readonly unguard: () => void;

  private constructor() {
    // The zones' own processes (gobgpds, FRR) run in its namespaces: the exit hook finds them there.
    this.unguard = guardNamespaces(this.prefix, randomBytes(8).toString('hex'));
  }

  /** `lab`: options every zone's Lab gets besides its hypervisors and VNI range (e.g. `resyncSeconds`). */
  static async start(specs: readonly ZoneSpec[], lab: Omit<LabOptions, 'hypervisors' | 'underlay' | 'prefix'> = {}, options: ZonesOptions = {}): Promise<Zones> {
    const z = new Zones();
    try {
      // FRR runs as user frr: its directories must be readable (mkdtemp's 0700 is not).
      mkdirSync(z.dir, { recursive: true, mode: 0o755 });
      z.fabric = await buildFabric(z.prefix);
      const gatewayIps = specs.map((_, i) => `198.18.0.${2 + i}`);
      const rrNs = await z.plug('rr', `${REFLECTOR_IP}/24`);
      const rr = { ns: rrNs.name, dir: join(z.dir, 'rr'), address: REFLECTOR_IP, asn: FEDERATION_AS, clients: gatewayIps.map((address) => ({ address, password: LAB_FEDERATION_PASSWORD })) };
      z.rr = options.reflector === 'gobgp' ? await GobgpReflector.start(rr) : await RouteReflector.start(rr);
      for (const [i, spec] of specs.entries()) await z.startZone(spec, gatewayIps[i]!, lab);
      for (const zone of z.zones) await zone.bgp.command('federation.set', federationOf(zone.spec, specs), ADMIN);
      return z;
    } catch (e) {
      await z.destroy();
      throw e;
    }
  }

  zone(name: string): Zone {
    const zone = this.zones.find((x) => x.spec.name === name);
    if (!zone) throw new Error(`no zone ${name}`);
    return zone;
  }

  /** A namespace `<prefix><role>` with one veth into the fabric's switch carrying `address`. */
  private async plug(role: string, address: string): Promise<Netns> {
    const ns = await Netns.create(`${this.prefix}${role}`);
    await sh(['ip', '-n', this.fabric.name, 'link', 'add', role, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
    await this.fabric.ip(['link', 'set', role, 'master', 'ul0', 'up']);
    await ns.ip(['addr', 'add', address, 'dev', 'eth0']);
    await ns.ip(['link', 'set', 'eth0', 'up']);
    return ns;
  }

  private async startZone(spec: ZoneSpec, gatewayIp: string, options: Omit<LabOptions, 'hypervisors' | 'underlay' | 'prefix'>): Promise<Zone> {
    const env = { ...options.env, IPAM_VNI_MIN: String(spec.vnis.min), IPAM_VNI_MAX: String(spec.vnis.max) };
    const lab = await Lab.start({ ...options, env, hypervisors: 0, prefix: `${this.prefix}${spec.name}-`, underlay: { fabric: this.fabric, hosts: spec.hosts } });
    try {
      await this.plug(gatewayRole(spec), `${gatewayIp}/24`);
      const zone: Zone = { spec, lab, gatewayIp, bgp: undefined!, gateway: undefined!, gobgpd: await this.startGobgpd(spec) };
      this.zones.push(zone);
      zone.gateway = await this.startGateway(zone);
      zone.bgp = new BgpClient(lab.ipam.nc, 15_000, lab.ipam.seq);
      await zone.bgp.command('settings.set', { localAs: GATEWAY_AS, routerId: gatewayIp }, ADMIN);
      return zone;
    } catch (e) {
      await lab.destroy();
      throw e;
    }
  }

  private startGateway(zone: Zone): Promise<ManagedProcess> {
    return zone.lab.startBgpGateway(`bgp-gateway-${zone.spec.name}`, {
      GOBGP_TARGET: `unix://${this.socketOf(zone.spec)}`,
      BGP_ROUTER_ID: zone.gatewayIp,
      BGP_SETTLE_MS: '1000',
      BGP_PASSWORD_FEDERATION: LAB_FEDERATION_PASSWORD,
    });
  }

  /** Crash only zone `name`'s BGP speaker: its gobgpd and BGP gateway (kill -9); its NATS, services and agents stay. */
  async killBgp(name: string): Promise<void> {
    const zone = this.zone(name);
    await zone.gobgpd.kill9();
    await zone.gateway.kill9();
  }

  /** Zone `name`'s BGP speaker back: a fresh gobgpd, a new gateway that configures it from the log. */
  async restartBgp(name: string): Promise<void> {
    const zone = this.zone(name);
    zone.gobgpd = await this.startGobgpd(zone.spec);
    zone.gateway = await this.startGateway(zone);
  }

  private socketOf(spec: ZoneSpec): string {
    return join(this.dir, `gobgp-${spec.name}.sock`);
  }

  /** A fresh gobgpd (no configuration, no routes: the gateway configures it) in the zone's gateway namespace. */
  private async startGobgpd(spec: ZoneSpec): Promise<ManagedProcess> {
    const socket = this.socketOf(spec);
    rmSync(socket, { force: true });
    const ns = `${this.prefix}${gatewayRole(spec)}`;
    const gobgpd = startProcess(`gobgpd-${spec.name}`, ['ip', 'netns', 'exec', ns, 'gobgpd', '-p', `--api-hosts=unix://${socket}`, '--pprof-disable'], { readyWhen: /gobgpd started/ });
    await gobgpd.ready;
    return gobgpd;
  }

  /**
   * Crash zone `name`'s whole control plane: its gobgpd and BGP gateway
   * (killBgp), then its NATS and services (Lab.killControlPlane), all kill -9
   * (a crash: a gobgpd that stops gracefully sends a notification, and
   * graceful restart then does not apply). Its agents stay and fail static.
   */
  async killControlPlane(name: string): Promise<void> {
    await this.killBgp(name);
    await this.zone(name).lab.killControlPlane();
  }

  /**
   * Stop zone `name`'s whole control plane as an operator would, every
   * process with SIGTERM: its BGP gateway, its gobgpd (which sends each
   * reflector a Cease notification, peer de-configured: with RFC 8538's
   * N bit that is graceful restart too, not a withdrawal), then its services
   * and NATS (Lab.stopControlPlane). Its agents stay and fail static.
   */
  async stopControlPlane(name: string): Promise<void> {
    const zone = this.zone(name);
    await zone.gateway.stop();
    await zone.gobgpd.stop();
    await zone.lab.stopControlPlane();
  }

  /** Zone `name`'s control plane back: NATS and every service on their old state, then its BGP speaker (restartBgp). */
  async restartControlPlane(name: string): Promise<void> {
    const zone = this.zone(name);
    await zone.lab.restartControlPlane();
    await this.restartBgp(name);
    zone.bgp = new BgpClient(zone.lab.ipam.nc, 15_000, zone.lab.ipam.seq);
  }

  async destroy(): Promise<void> {
    for (const zone of [...this.zones].reverse()) await zone.lab.destroy().catch(() => undefined);
    for (const zone of this.zones) await zone.gobgpd.stop(5_000).catch(() => undefined);
    await this.rr?.stop().catch(() => undefined);
    await deleteAll(this.prefix);
    rmSync(this.dir, { recursive: true, force: true });
    this.unguard();
  }
}

/** The zone's gobgpd's namespace role (`<p><role>`): a veth name, at most 15 characters. */
const gatewayRole = (spec: ZoneSpec): string => `gw-${spec.name}`.slice(0, 15);

/** Zone `spec`'s federation configuration: every other zone with its hypervisors' /32s and its VNI range. */
export function federationOf(spec: ZoneSpec, all: readonly ZoneSpec[]) {
  return {
    localZone: { name: spec.name, id: spec.id },
    federationAs: FEDERATION_AS,
    routeReflectors: [{ address: REFLECTOR_IP, passwordRef: 'federation' }],
    zones: all
      .filter((z) => z.name !== spec.name)
      .map((z) => ({ name: z.name, id: z.id, vtepPrefixes: z.hosts.map((i) => `${underlayIp(i)}/32`), vniRanges: [z.vnis], maxRoutes: 10_000 })),
  };
}

/** A tenant's segment stretched across zones, as one zone has it. */
export interface StretchedSide {
  net: NetworkView;
  subnet: SubnetView;
}

/**
 * The zone's side of a tenant's stretched segment: without `vni` the tenant
 * creates it (the VNI from this zone's range), with `vni` an admin joins the
 * other zone's segment for the tenant. The subnet is the same in every zone
 * (CIDR, gateway) with this zone's own allocation pool, so addresses never
 * collide across zones.
 */
export async function stretchedSide(
  zone: Zone,
  who: Principal,
  s: { name: string; cidr: string; gatewayIp: string; pool: { start: string; end: string } },
  vni?: number,
): Promise<StretchedSide> {
  const net =
    vni === undefined
      ? await zone.lab.ipam.command('network.create', { name: s.name, federated: true }, who)
      : await zone.lab.ipam.command('network.create', { tenant: who.tenant, name: s.name, federated: true, vni }, ADMIN);
  const subnet = await zone.lab.ipam.command('subnet.create', { networkId: net.id, cidr: s.cidr, gatewayIp: s.gatewayIp, allocationPools: [s.pool] }, who);
  return { net, subnet };
}
