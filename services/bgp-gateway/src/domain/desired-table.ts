/**
 * The desired advertisements kept change by change (issue 21, item 6): a
 * floating IP's or a port's event costs work for what it touched, not a
 * recompute of every floating IP and port (18 ms for 10,000 on a quiet
 * machine, most of it walking the state's dictionaries), so a withdrawal
 * reaches gobgpd in a pass proportional to itself. OVN's incremental
 * processing, with the same safety net: anything else rebuilds.
 *
 * Every advertisement is an offer of one source (advertisements.ts): a
 * floating IP, a port (its host routes), a routed subnet, a hypervisor's
 * H-IP, an accepted appliance route. A prefix goes to its best offer.
 * `update` recomputes the sources the events since the last pass touched
 * (`DesiredChanges`) and what depends on them:
 *
 *   a port          its host routes; the floating IPs on it; the routed
 *                   subnets of its network when the lowest hosting
 *                   hypervisor changes (counted per network)
 *   a floating IP   itself
 *   a neighbour     an appliance address that moved to another port: both
 *                   ports (the holder's host route wins its address)
 *
 * Appliance routes read the clock (damping) and this instance's sessions:
 * they are recomputed on every pass (there are few). Any other event (a
 * hypervisor, a network, a subnet, a pool, the configuration) rebuilds the
 * table, as do a failed pass and the periodic resync. `desiredAdvertisements`
 * is a table built from scratch; desired-table.unit.spec.ts checks over
 * random logs that the incremental table equals it after every event.
 */
import { IPAM_PORT_EVENT_TYPES, SECGROUP_CONTEXT } from '@strata/contracts';
import {
  applianceRouteOffers,
  beats,
  floatingIpOffers,
  hostIpOffers,
  offerContext,
  portOffers,
  routedHostOf,
  routedSubnetOffers,
  type Advertisement,
  type Liveness,
  type Offer,
  type OfferContext,
} from './advertisements.js';
import { isRelevant } from './evolve.js';
import { desiredNeighbours, type Neighbour } from './neighbours.js';
import type { BgpState } from './state.js';

/** Without `live` (the advertisement query): what the log allows, damping and sessions aside. */
export function desiredAdvertisements(state: BgpState, live?: Liveness): ReadonlyMap<string, Advertisement> {
  const table = new DesiredTable();
  table.update(state, new DesiredChanges(), desiredNeighbours(state), live);
  return table.desired;
}

/** Events that change no advertisement source by themselves (appliance routes are recomputed on every pass). */
const NO_SOURCE = new Set(['bgp.RouteLearned', 'bgp.RouteRejected', 'bgp.RouteWithdrawn', 'bgp.PhysicalMacLearned', 'bgp.PhysicalMacWithdrawn', 'bgp.PhysicalVtepLearned', 'bgp.PhysicalVtepWithdrawn', 'bgp.ApplianceSessionLimited']);
const PORT_EVENTS: ReadonlySet<string> = new Set(IPAM_PORT_EVENT_TYPES);
const FIP_EVENTS = new Set(['nat.FloatingIpAssociated', 'nat.FloatingIpDisassociated']);

/** What the events applied since the last update touched. Starts as "everything" (nothing built yet). */
export class DesiredChanges {
  all = true;
  readonly ports = new Set<string>();
  readonly floatingIps = new Set<string>();

  /** Note an applied stored event (any event of the stream: those the gateway does not follow touch nothing). */
  note(event: { type: string; aggregate: { context: string; type: string; id: string }; data: unknown }): void {
    if (this.all || !isRelevant(event) || NO_SOURCE.has(event.type) || event.aggregate.context === SECGROUP_CONTEXT) return;
    const data = (event.data ?? {}) as { portId?: unknown; floatingIpId?: unknown };
    if (PORT_EVENTS.has(event.type) && typeof data.portId === 'string') this.ports.add(data.portId);
    else if (FIP_EVENTS.has(event.type) && typeof data.floatingIpId === 'string') this.floatingIps.add(data.floatingIpId);
    else this.everything();
  }

  /** Rebuild at the next update. */
  everything(): void {
    this.all = true;
    this.ports.clear();
    this.floatingIps.clear();
  }

  clear(): void {
    this.all = false;
    this.ports.clear();
    this.floatingIps.clear();
  }
}

export class DesiredTable {
  /** Source key (`fip:<id>`, `port:<id>`, `subnet:<id>`, `hip:<host>`, `route:<id>`) → its offers. */
  private readonly offers = new Map<string, Offer[]>();
  /** Prefix → the sources claiming it, with their offers (usually one: an array, not a map, for 10,000s of prefixes). */
  private readonly claims = new Map<string, Claim[]>();
  private readonly winners = new Map<string, Advertisement>();
  /** Floating IPs by the port they are on, as last computed. */
  private readonly fipsOfPort = new Map<string, string[]>();
  private readonly portOfFip = new Map<string, string>();
  /** Ports counted among their routed network's hypervisors (routedHostOf), and the counts per network and host. */
  private readonly countedAt = new Map<string, { networkId: string; hostId: string }>();
  private readonly hostsOfNetwork = new Map<string, Map<string, number>>();
  private readonly subnetsOfNetwork = new Map<string, string[]>();
  /** Appliance address → its port, as the host routes were last computed with. */
  private appliances = new Map<string, string>();
  private readonly routeSources = new Set<string>();

  /** prefix → the advertisement that wins it. */
  get desired(): ReadonlyMap<string, Advertisement> {
    return this.winners;
  }

  /**
   * Bring the table to `state` after `changes` (cleared here). Returns the
   * prefixes whose advertisement changed, or 'all' after a rebuild.
   * `neighbours`: desiredNeighbours(state), which the pass has computed anyway.
   */
  update(state: BgpState, changes: DesiredChanges, neighbours: ReadonlyMap<string, Neighbour>, live?: Liveness): ReadonlySet<string> | 'all' {
    const ctx = offerContext(state, neighbours);
    const touched = new Set<string>();
    if (changes.all) {
      this.rebuild(ctx, live);
      changes.clear();
      return 'all';
    }
    const sources = new Set<string>();
    for (const id of changes.floatingIps) {
      this.indexFloatingIp(id, state.fabric.floatingIps[id]?.portId);
      sources.add(`fip:${id}`);
    }
    for (const id of changes.ports) {
      sources.add(`port:${id}`);
      for (const f of this.fipsOfPort.get(id) ?? []) sources.add(`fip:${f}`);
      for (const s of this.recount(state, id)) sources.add(`subnet:${s}`);
    }
    for (const id of this.movedAppliances(neighbours)) sources.add(`port:${id}`);
    for (const key of sources) this.refresh(ctx, key, touched);
    this.refreshRoutes(ctx, live, touched);
    changes.clear();
    const changed = new Set<string>();
    for (const prefix of touched) if (this.settle(prefix)) changed.add(prefix);
    return changed;
  }

  private rebuild(ctx: OfferContext, live: Liveness | undefined): void {
    for (const m of [this.offers, this.claims, this.winners, this.fipsOfPort, this.portOfFip, this.countedAt, this.hostsOfNetwork, this.subnetsOfNetwork]) m.clear();
    this.routeSources.clear();
    const { fabric } = ctx.state;
    const touched = new Set<string>();
    for (const [id, fip] of Object.entries(fabric.floatingIps)) {
      this.indexFloatingIp(id, fip.portId);
      this.refresh(ctx, `fip:${id}`, touched);
    }
    for (const id of Object.keys(fabric.ports)) {
      this.recount(ctx.state, id);
      // Only ports counted on a routed network offer anything (their host routes).
      if (this.countedAt.has(id)) this.refresh(ctx, `port:${id}`, touched);
    }
    for (const [id, s] of Object.entries(fabric.subnets)) this.subnetsOfNetwork.set(s.networkId, [...(this.subnetsOfNetwork.get(s.networkId) ?? []), id]);
    for (const id of Object.keys(fabric.subnets)) this.refresh(ctx, `subnet:${id}`, touched);
    for (const id of Object.keys(fabric.hostIps)) this.refresh(ctx, `hip:${id}`, touched);
    this.appliances = appliancePorts(ctx.neighbours);
    this.refreshRoutes(ctx, live, touched);
    for (const prefix of touched) this.settle(prefix);
  }

  /** Recompute one source's offers; the prefixes it claimed or claims go to `touched`. */
  private refresh(ctx: OfferContext, key: string, touched: Set<string>, live?: Liveness): void {
    for (const o of this.offers.get(key) ?? []) {
      touched.add(o.a.prefix);
      const rest = this.claims.get(o.a.prefix)!.filter((c) => c.key !== key);
      if (rest.length === 0) this.claims.delete(o.a.prefix);
      else this.claims.set(o.a.prefix, rest);
    }
    const next = this.offersOf(ctx, key, live);
    if (next.length === 0) this.offers.delete(key);
    else this.offers.set(key, next);
    for (const o of next) {
      touched.add(o.a.prefix);
      const c = this.claims.get(o.a.prefix);
      if (c) c.push({ key, offer: o });
      else this.claims.set(o.a.prefix, [{ key, offer: o }]);
    }
  }

  private offersOf(ctx: OfferContext, key: string, live: Liveness | undefined): Offer[] {
    const colon = key.indexOf(':');
    const [kind, id] = [key.slice(0, colon), key.slice(colon + 1)];
    switch (kind) {
      case 'fip':
        return floatingIpOffers(ctx.state, id);
      case 'port':
        return portOffers(ctx, id);
      case 'subnet': {
        const s = ctx.state.fabric.subnets[id];
        return routedSubnetOffers(ctx, id, s ? lowest(this.hostsOfNetwork.get(s.networkId)) : undefined);
      }
      case 'hip':
        return hostIpOffers(ctx.state, id);
      case 'route':
        return applianceRouteOffers(ctx, id, live);
      default:
        throw new Error(`unknown advertisement source ${key}`);
    }
  }

  /** Keep fipsOfPort (a port's change must reach the floating IPs on it): a floating IP's port changes only with its own events. */
  private indexFloatingIp(id: string, portId: string | undefined): void {
    const before = this.portOfFip.get(id);
    if (before === portId) return;
    if (before !== undefined) {
      const rest = this.fipsOfPort.get(before)!.filter((f) => f !== id);
      if (rest.length === 0) this.fipsOfPort.delete(before);
      else this.fipsOfPort.set(before, rest);
      this.portOfFip.delete(id);
    }
    if (portId !== undefined) {
      this.portOfFip.set(id, portId);
      const fips = this.fipsOfPort.get(portId);
      if (fips) fips.push(id);
      else this.fipsOfPort.set(portId, [id]);
    }
  }

  /** Appliance routes, every pass: the clock and the sessions decide them too. */
  private refreshRoutes(ctx: OfferContext, live: Liveness | undefined, touched: Set<string>): void {
    const ids = Object.keys(ctx.state.routes);
    if (ids.length === 0 && this.routeSources.size === 0) return;
    const keys = new Set([...this.routeSources, ...ids.map((id) => `route:${id}`)]);
    this.routeSources.clear();
    for (const key of keys) {
      this.refresh(ctx, key, touched, live);
      if (this.offers.has(key)) this.routeSources.add(key);
    }
  }

  /**
   * Move a port's count to the hypervisor it is on now; returns the subnets
   * of every network whose lowest hosting hypervisor changed.
   */
  private recount(state: BgpState, portId: string): string[] {
    const before = this.countedAt.get(portId);
    const after = routedHostOf(state, portId);
    if (before?.networkId === after?.networkId && before?.hostId === after?.hostId) return [];
    const networks = new Map<string, string | undefined>();
    for (const at of [before, after]) if (at && !networks.has(at.networkId)) networks.set(at.networkId, lowest(this.hostsOfNetwork.get(at.networkId)));
    if (before) {
      const hosts = this.hostsOfNetwork.get(before.networkId)!;
      const n = hosts.get(before.hostId)! - 1;
      if (n === 0) hosts.delete(before.hostId);
      else hosts.set(before.hostId, n);
      if (hosts.size === 0) this.hostsOfNetwork.delete(before.networkId);
      this.countedAt.delete(portId);
    }
    if (after) {
      let hosts = this.hostsOfNetwork.get(after.networkId);
      if (!hosts) this.hostsOfNetwork.set(after.networkId, (hosts = new Map()));
      hosts.set(after.hostId, (hosts.get(after.hostId) ?? 0) + 1);
      this.countedAt.set(portId, after);
    }
    const out: string[] = [];
    for (const [networkId, was] of networks) if (lowest(this.hostsOfNetwork.get(networkId)) !== was) out.push(...(this.subnetsOfNetwork.get(networkId) ?? []));
    return out;
  }

  /** Ports whose appliance neighbour status changed since the last update (both the old holder and the new). */
  private movedAppliances(neighbours: ReadonlyMap<string, Neighbour>): string[] {
    const now = appliancePorts(neighbours);
    const moved: string[] = [];
    for (const [address, portId] of now) if (this.appliances.get(address) !== portId) moved.push(portId);
    for (const [address, portId] of this.appliances) if (now.get(address) !== portId) moved.push(portId);
    this.appliances = now;
    return moved;
  }

  /** Give `prefix` to its best offer; true when its advertisement changed. */
  private settle(prefix: string): boolean {
    let best: Offer | undefined;
    let bestKey = '';
    for (const { key, offer: o } of this.claims.get(prefix) ?? []) {
      // Equal kind and order: the lower source key, so the answer does not depend on the order of changes.
      if (!best || beats(o, best) || (!beats(best, o) && key < bestKey)) [best, bestKey] = [o, key];
    }
    const was = this.winners.get(prefix);
    if (!best) {
      this.winners.delete(prefix);
      return was !== undefined;
    }
    this.winners.set(prefix, best.a);
    return was === undefined || was.nextHop !== best.a.nextHop || was.kind !== best.a.kind || was.sourceId !== best.a.sourceId;
  }
}

interface Claim {
  key: string;
  offer: Offer;
}

function appliancePorts(neighbours: ReadonlyMap<string, Neighbour>): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of neighbours.values()) if (n.kind === 'appliance') out.set(n.address, n.portId);
  return out;
}

/** The lowest host id of a network's hosting hypervisors (the one its routed subnets are advertised via). */
function lowest(hosts: ReadonlyMap<string, number> | undefined): string | undefined {
  let min: string | undefined;
  for (const h of hosts?.keys() ?? []) if (min === undefined || h < min) min = h;
  return min;
}
