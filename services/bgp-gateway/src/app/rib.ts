/**
 * Keeps the paths Strata originates in gobgpd equal to the desired
 * advertisements. It remembers what it applied (`advertised`), so a pass
 * costs a diff, not a RIB read; the RIB is read when that memory is not to
 * be trusted: at start-up (a restarted gateway touches only what differs,
 * so unchanged routes are never withdrawn), after gobgpd restarted, after a
 * failed apply, and on the periodic resync that repairs drift.
 *
 * Two tables, one memory rule: unicast routes (prefix → next hop) and EVPN
 * routes towards hardware VTEPs (key → route and route targets,
 * domain/evpn.ts), both forgotten together and re-read together.
 */
import { diffRib, diffRibAt, type Advertisement } from '../domain/advertisements.js';
import { diffEvpn, evpnKey, type EvpnAdvertisement } from '../domain/evpn.js';
import type { GobgpClient } from '../gobgp/client.js';

export interface RibPass {
  added: number;
  withdrawn: number;
  /** EVPN paths added / withdrawn. */
  evpnAdded: number;
  evpnWithdrawn: number;
  /** The RIB was read in this pass. */
  read: boolean;
}

export class RibReconciler {
  private advertised: Map<string, string> | undefined;
  private evpnAdvertised: Map<string, EvpnAdvertisement> | undefined;

  constructor(private readonly client: GobgpClient) {}

  /** Read the RIB on the next pass. */
  invalidate(): void {
    this.advertised = undefined;
    this.evpnAdvertised = undefined;
  }

  get size(): number {
    return (this.advertised?.size ?? 0) + (this.evpnAdvertised?.size ?? 0);
  }

  /**
   * `changed`: the only prefixes whose desired route may differ from the last
   * pass's (domain/desired-table.ts); without it, or when the RIB must be
   * read, every prefix is compared.
   */
  async reconcile(desired: ReadonlyMap<string, Advertisement>, desiredEvpn: ReadonlyMap<string, EvpnAdvertisement> = new Map(), changed?: ReadonlySet<string>): Promise<RibPass> {
    const read = this.advertised === undefined || this.evpnAdvertised === undefined;
    const unicast = await this.reconcileUnicast(desired, changed);
    const evpn = await this.reconcileEvpn(desiredEvpn);
    return { ...unicast, evpnAdded: evpn.added, evpnWithdrawn: evpn.withdrawn, read };
  }

  private async reconcileEvpn(desired: ReadonlyMap<string, EvpnAdvertisement>): Promise<{ added: number; withdrawn: number }> {
    const actual = this.evpnAdvertised ?? new Map((await this.client.evpnOriginated()).map((p) => [evpnKey(p.route), { route: p.route, routeTargets: p.routeTargets, largeCommunities: p.largeCommunities }]));
    const diff = diffEvpn(desired, actual);
    this.evpnAdvertised = undefined; // unknown until the apply has succeeded
    await this.client.applyEvpnPaths(diff.add, diff.withdraw);
    const next = new Map(actual);
    for (const w of diff.withdraw) next.delete(evpnKey(w));
    for (const a of diff.add) next.set(evpnKey(a.route), a);
    this.evpnAdvertised = next;
    return { added: diff.add.length, withdrawn: diff.withdraw.length };
  }

  private async reconcileUnicast(desired: ReadonlyMap<string, Advertisement>, changed: ReadonlySet<string> | undefined): Promise<{ added: number; withdrawn: number }> {
    const remembered = this.advertised;
    const actual = remembered ?? (await this.client.originated());
    const diff = remembered && changed ? diffRibAt(desired, actual, changed) : diffRib(desired, actual);
    const withdraw = diff.withdraw.map((prefix) => ({ prefix, nextHop: actual.get(prefix)! }));
    this.advertised = undefined; // unknown until the apply has succeeded
    await this.client.applyPaths(diff.add, withdraw);
    // Updated in place, not copied: a pass costs its changes (a failed apply forgot the map above).
    for (const w of diff.withdraw) actual.delete(w);
    for (const a of diff.add) actual.set(a.prefix, a.nextHop);
    this.advertised = actual;
    return { added: diff.add.length, withdrawn: diff.withdraw.length };
  }
}
