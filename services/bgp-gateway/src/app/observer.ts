/**
 * What this gateway's gobgpd hears: session states and every peer's
 * pre-policy Adj-RIB-In, followed through one WatchEvent stream (the current
 * tables first, then updates). Pure bookkeeping; the gateway turns it into
 * events (domain/decide/routes.ts).
 *
 * A session that goes down takes its Adj-RIB-In with it without update
 * messages, so its announcements are dropped here, and nothing is recorded
 * as withdrawn: losing a session is not the peer withdrawing a route (with
 * two gateways, the other one still hears it). The session state itself
 * decides whether this instance advertises the appliance's routes.
 *
 * Only appliance peers' tables are kept (`keep`): the fabric peers' routes,
 * including the ToR's echoes of the gateways' own routes, are nothing the
 * gateway records. An appliance's table is bounded by the engine's hard
 * prefix limit (beyond it the engine stops the session).
 *
 * EVPN routes are kept for `evpn` switches (`keepEvpn`, without the echoes of
 * Strata's own routes) and for the federation's route reflectors
 * (`keepZones`, with their communities: other zones' Strata routes carry
 * Strata's community too, and the origin community is what the zone filter
 * reads, decide/federation.ts).
 */
import { charge, DEFAULT_DAMPING, isSuppressed, UNDAMPED, type Damping } from '../domain/damping.js';
import type { Announcement } from '../domain/import-policy.js';
import { evpnKey, type EvpnRoute } from '../domain/evpn.js';
import type { ZoneRoute } from '../domain/decide/federation.js';
import { readEvpnPath } from '../gobgp/evpn.js';
import { readPath, STRATA_COMMUNITY } from '../gobgp/paths.js';
import type { ApiPeer, WatchEvent } from '../gobgp/proto.js';

export interface Session {
  established: boolean;
  /** The engine stopped the session at its prefix limit (gobgpd Idle(PfxCt)): it stays down until re-enabled. */
  limited: boolean;
  /** ms since epoch when it became established (or was first seen established). */
  since: number;
  /**
   * Flap damping of the session itself (this instance's view): every drop of
   * an established session is charged like a route withdrawal, so an
   * appliance that keeps resetting its session is kept off the fabric.
   * Drops at the prefix limit are not charged (they have their own backoff).
   */
  damping: Damping;
}

export class Observer {
  private readonly sessions = new Map<string, Session>();
  private readonly adjIn = new Map<string, Map<string, Announcement>>();
  private readonly evpnIn = new Map<string, Map<string, EvpnRoute>>();
  private readonly zoneIn = new Map<string, Map<string, ZoneRoute>>();
  private peersKnown = false;

  constructor(
    private readonly now: () => number = Date.now,
    /** Whose announcements to keep (the appliances'). */
    private readonly keep: (peer: string) => boolean = () => true,
    /** Whose EVPN routes to keep (the `evpn` switches'). */
    private readonly keepEvpn: (peer: string) => boolean = () => false,
    /** Whose EVPN routes to keep with their communities (the route reflectors'). */
    private readonly keepZones: (peer: string) => boolean = () => false,
  ) {}

  reset(): void {
    this.sessions.clear();
    this.adjIn.clear();
    this.evpnIn.clear();
    this.zoneIn.clear();
    this.peersKnown = false;
  }

  /** The engine has reported every peer's state (the watch's initial dump is over): a peer not known is not up. */
  get complete(): boolean {
    return this.peersKnown;
  }

  session(address: string): Session | undefined {
    return this.sessions.get(address);
  }

  announced(address: string): Announcement[] {
    return [...(this.adjIn.get(address)?.values() ?? [])];
  }

  /** The EVPN routes a switch announces now. */
  evpnAnnounced(address: string): EvpnRoute[] {
    return [...(this.evpnIn.get(address)?.values() ?? [])];
  }

  /** What a route reflector passes on from the other zones now. */
  zoneAnnounced(address: string): ZoneRoute[] {
    return [...(this.zoneIn.get(address)?.values() ?? [])];
  }

  /** Forget peers that are no longer neighbours (gobgpd reports nothing for a deleted peer). */
  retain(addresses: ReadonlySet<string>): void {
    for (const a of [...this.sessions.keys(), ...this.adjIn.keys(), ...this.evpnIn.keys(), ...this.zoneIn.keys()]) {
      if (addresses.has(a)) continue;
      this.sessions.delete(a);
      this.adjIn.delete(a);
      this.evpnIn.delete(a);
      this.zoneIn.delete(a);
    }
  }

  /** Announcements held, over all peers. */
  size(): number {
    let n = 0;
    for (const t of this.adjIn.values()) n += t.size;
    return n;
  }

  /** May this instance advertise what the appliance at `address` announced: session up and not damped? */
  usable(address: string): boolean {
    const s = this.sessions.get(address);
    return s !== undefined && s.established && !isSuppressed(s.damping, this.now());
  }

  /** When the next damped session becomes usable again (ms since epoch), or Infinity. */
  nextReuse(): number {
    let next = Infinity;
    const now = this.now();
    for (const s of this.sessions.values()) if (s.damping.suppressedUntil > now) next = Math.min(next, s.damping.suppressedUntil);
    return next;
  }

  established(): number {
    return [...this.sessions.values()].filter((s) => s.established).length;
  }

  /** Apply one watch message; true if anything changed. */
  handle(ev: WatchEvent): boolean {
    if (ev.event === 'peer') {
      if (ev.peer.type === 'END_OF_INIT') return !this.peersKnown && (this.peersKnown = true);
      return ev.peer.peer ? this.onPeer(ev.peer.peer) : false;
    }
    let changed = false;
    for (const p of ev.table.paths) {
      const r = readPath(p);
      if (!r) {
        changed = this.handleEvpn(p) || changed;
        continue;
      }
      if (r.peer === '' || !this.keep(r.peer)) continue;
      let table = this.adjIn.get(r.peer);
      if (!table) this.adjIn.set(r.peer, (table = new Map()));
      if (r.withdraw) changed = table.delete(r.prefix) || changed;
      else {
        table.set(r.prefix, { prefix: r.prefix, nextHop: r.nextHop, asPath: r.asPath });
        changed = true;
      }
    }
    return changed;
  }

  private handleEvpn(p: Parameters<typeof readEvpnPath>[0]): boolean {
    const r = readEvpnPath(p);
    if (!r || r.peer === '') return false;
    if (this.keepZones(r.peer)) {
      let zones = this.zoneIn.get(r.peer);
      if (!zones) this.zoneIn.set(r.peer, (zones = new Map()));
      if (r.withdraw) return zones.delete(evpnKey(r.route));
      zones.set(evpnKey(r.route), { route: r.route, communities: r.communities, largeCommunities: r.largeCommunities });
      return true;
    }
    if (!this.keepEvpn(r.peer) || r.communities.includes(STRATA_COMMUNITY)) return false;
    let table = this.evpnIn.get(r.peer);
    if (!table) this.evpnIn.set(r.peer, (table = new Map()));
    if (r.withdraw) return table.delete(evpnKey(r.route));
    table.set(evpnKey(r.route), r.route);
    return true;
  }

  private onPeer(peer: ApiPeer): boolean {
    const address = peer.state?.neighbor_address || peer.conf?.neighbor_address;
    if (!address) return false;
    const established = peer.state?.session_state === 'ESTABLISHED';
    const limited = peer.state?.admin_state === 'PFX_CT';
    const before = this.sessions.get(address);
    if (before?.established === established && before.limited === limited) return false;
    if (before?.established === established) {
      before.limited = limited;
      return true;
    }
    const uptime = Number(peer.timers?.state?.uptime?.seconds ?? 0) * 1000;
    // A drop at the prefix limit is not charged: the limit's own backoff (app/session-limits.ts) deals with it.
    const flapped = before?.established === true && !established && !limited;
    const damping = flapped ? charge(before.damping, DEFAULT_DAMPING.withdrawal, this.now()) : (before?.damping ?? UNDAMPED);
    this.sessions.set(address, { established, limited, damping, since: established && uptime > 0 ? Math.min(uptime, this.now()) : this.now() });
    if (!established) {
      this.adjIn.delete(address);
      this.evpnIn.delete(address);
      this.zoneIn.delete(address);
    }
    return true;
  }
}
