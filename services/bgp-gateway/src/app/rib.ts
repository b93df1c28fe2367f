/**
 * Keeps the paths Strata originates in gobgpd equal to the desired
 * advertisements. It remembers what it applied (`advertised`), so a pass
 * costs a diff, not a RIB read; the RIB is read when that memory is not to
 * be trusted: at start-up (a restarted gateway touches only what differs,
 * so unchanged routes are never withdrawn), after gobgpd restarted, after a
 * failed apply, and on the periodic resync that repairs drift.
 */
import { diffRib, type Advertisement } from '../domain/advertisements.js';
import type { GobgpClient } from '../gobgp/client.js';

export interface RibPass {
  added: number;
  withdrawn: number;
  /** The RIB was read in this pass. */
  read: boolean;
}

export class RibReconciler {
  private advertised: Map<string, string> | undefined;

  constructor(private readonly client: GobgpClient) {}

  /** Read the RIB on the next pass. */
  invalidate(): void {
    this.advertised = undefined;
  }

  get size(): number {
    return this.advertised?.size ?? 0;
  }

  async reconcile(desired: ReadonlyMap<string, Advertisement>): Promise<RibPass> {
    const read = this.advertised === undefined;
    const actual = this.advertised ?? (await this.client.originated());
    const diff = diffRib(desired, actual);
    const withdraw = diff.withdraw.map((prefix) => ({ prefix, nextHop: actual.get(prefix)! }));
    this.advertised = undefined; // unknown until the apply has succeeded
    await this.client.applyPaths(diff.add, withdraw);
    const next = new Map(actual);
    for (const w of diff.withdraw) next.delete(w);
    for (const a of diff.add) next.set(a.prefix, a.nextHop);
    this.advertised = next;
    return { added: diff.add.length, withdrawn: diff.withdraw.length, read };
  }
}
