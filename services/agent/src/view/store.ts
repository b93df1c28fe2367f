/**
 * KV entries of `<hostId>.>` → a HostViewSnapshot. Pure (no NATS): the
 * watcher feeds it entries, tests feed it by hand.
 */
import { decodeHostviewValue, parseHostviewKey, type HostviewKind, type ViewPosition } from '@strata/contracts';
import { emptySnapshot, type HostViewSnapshot } from '../core/snapshot.js';

export interface ViewEntry {
  key: string;
  operation: 'PUT' | 'DEL' | 'PURGE';
  revision: number;
  /** JSON text or bytes; ignored for DEL/PURGE. */
  value: Uint8Array | string;
}

type Collection = 'networks' | 'ports' | 'endpoints' | 'domains' | 'groups' | 'members' | 'chains' | 'l2gateways';
/** Where each kind of key (the layout and schemas: the contracts' host-view codec) goes in the snapshot, by the object's name. */
const COLLECTIONS: Record<Exclude<HostviewKind, 'host' | 'position'>, Collection> = {
  net: 'networks',
  port: 'ports',
  ep: 'endpoints',
  domain: 'domains',
  sg: 'groups',
  member: 'members',
  chain: 'chains',
  l2gw: 'l2gateways',
};

export class InvalidEntryError extends Error {
  override readonly name = 'InvalidEntryError';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`host view entry ${key}: ${message}`);
  }
}

/**
 * One object of the view that changed: the collection, its id, and the
 * values before and after (undefined: absent). `position` is the view's
 * position (`<h>.position.view`'s seq): no kernel object.
 */
export interface ViewChange {
  field: Collection | 'host' | 'position';
  id: string;
  before: unknown;
  after: unknown;
}

/** Journal entries kept at most (older ones are dropped: a reader that far behind reads a whole snapshot). */
const JOURNAL_MAX = 100_000;

export class HostViewStore {
  private readonly view: HostViewSnapshot = emptySnapshot();
  private _revision = 0;
  private _viewPosition: number | null = null;
  /** The position key's last entry was a delete marker (hostview emptied the host: it had no key left). */
  private positionDeleted = false;
  /** Objects held (the host key and every collection's entries): an emptied view holds none. */
  private objects = 0;
  private _viewTrace: ViewPosition['trace'];
  /**
   * Copy-on-write: the last snapshot, and the collections changed since.
   * A snapshot copies only those (the members of a 10k group are 10k keys:
   * copying them for every change cost ~10 ms).
   */
  private cached: HostViewSnapshot | null = null;
  private readonly dirty = new Set<ViewChange['field']>();
  /** Every change, in order, from position `journalBase` (the agent's membership fast path reads it). */
  private journal: ViewChange[] = [];
  private journalBase = 0;

  constructor(private readonly hostId: string) {}

  /** Position after the last change applied (a journal position). */
  get position(): number {
    return this.journalBase + this.journal.length;
  }

  /** The changes after position `from`, or null when they are no longer kept. */
  changesSince(from: number): ViewChange[] | null {
    if (from < this.journalBase || from > this.position) return null;
    return this.journal.slice(from - this.journalBase);
  }

  /** Forget the journal before position `upTo` (its reader has applied it). */
  trim(upTo: number): void {
    const n = Math.min(Math.max(0, upTo - this.journalBase), this.journal.length);
    if (n === 0) return;
    this.journal = this.journal.slice(n);
    this.journalBase += n;
  }

  private record(change: ViewChange): void {
    this.dirty.add(change.field);
    this.journal.push(change);
    if (this.journal.length > JOURNAL_MAX) this.trim(this.position - JOURNAL_MAX / 2);
  }

  /**
   * The log position the view's other keys reflect (`<h>.position.view`,
   * written by hostview after them); null while the bucket has none.
   */
  get viewPosition(): number | null {
    return this._viewPosition;
  }

  /**
   * Whether this is the control plane's word on the host (fail static,
   * docs/architecture.md "Fail static"): hostview writes a host's position
   * key after the keys it covers, and deletes it after the last key when it
   * empties the host (deregistration). So a view that has a position is
   * complete as of that position, and one that is empty with its position's
   * delete marker says "nothing here". Anything else — a bucket that holds
   * nothing at all (never written, re-created, purged, lost with its
   * server's storage) or keys without a position (being written again from
   * scratch) — says nothing about what the host should have: the agent must
   * not take it for an empty or partial host and tear the kernel down.
   */
  get authoritative(): boolean {
    return this._viewPosition !== null || (this.positionDeleted && this.objects === 0);
  }

  /** The trace context hostview wrote with the view's position (its publish span), if any. */
  get viewTrace(): ViewPosition['trace'] {
    return this._viewTrace;
  }

  /** Highest KV revision applied. */
  get revision(): number {
    return this._revision;
  }

  /**
   * Apply one entry. A malformed key or value throws InvalidEntryError and
   * leaves the previous value in place (a bad update must not tear down a
   * working network).
   */
  apply(e: ViewEntry): void {
    this._revision = Math.max(this._revision, e.revision);
    const prefix = `${this.hostId}.`;
    if (!e.key.startsWith(prefix)) throw new InvalidEntryError(e.key, `not under ${prefix}`);
    const k = parseHostviewKey(e.key);
    if (!k) throw new InvalidEntryError(e.key, 'unknown key');
    const removed = e.operation !== 'PUT';
    if (k.kind === 'position') {
      const before = this._viewPosition ?? undefined;
      const position = removed ? undefined : parse(e, 'position');
      this._viewPosition = position?.seq ?? null;
      this._viewTrace = position?.trace;
      this.positionDeleted = removed;
      this.record({ field: 'position', id: '', before, after: this._viewPosition ?? undefined });
      return;
    }
    if (k.kind === 'host') {
      const before = this.view.host;
      if (removed) delete this.view.host;
      else this.view.host = parse(e, 'host');
      this.count(before, this.view.host);
      this.record({ field: 'host', id: '', before, after: this.view.host });
      return;
    }
    const field = COLLECTIONS[k.kind];
    const records = this.view[field] as Record<string, unknown>;
    const before = records[k.name];
    if (removed) delete records[k.name];
    else records[k.name] = parse(e, k.kind);
    this.count(before, records[k.name]);
    this.record({ field, id: k.name, before, after: records[k.name] });
  }

  private count(before: unknown, after: unknown): void {
    this.objects += Number(after !== undefined) - Number(before !== undefined);
  }

  /**
   * A copy that later entries do not change (objects themselves are never
   * mutated). Unchanged collections are shared with the previous snapshot.
   */
  snapshot(): HostViewSnapshot {
    const v = this.view;
    const prev = this.cached;
    const fresh = <K extends Collection>(k: K): HostViewSnapshot[K] => (prev && !this.dirty.has(k) ? prev[k] : { ...v[k] });
    const snap: HostViewSnapshot = {
      ...(v.host ? { host: v.host } : {}),
      networks: fresh('networks'),
      ports: fresh('ports'),
      endpoints: fresh('endpoints'),
      domains: fresh('domains'),
      groups: fresh('groups'),
      members: fresh('members'),
      chains: fresh('chains'),
      l2gateways: fresh('l2gateways'),
    };
    this.cached = snap;
    this.dirty.clear();
    return snap;
  }
}

function parse<K extends HostviewKind>(e: ViewEntry, kind: K) {
  try {
    return decodeHostviewValue(kind, typeof e.value === 'string' ? e.value : new TextDecoder().decode(e.value));
  } catch (err) {
    throw new InvalidEntryError(e.key, (err as Error).message);
  }
}
