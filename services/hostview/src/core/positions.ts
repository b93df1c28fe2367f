/**
 * Where hostview's writes stand, for the status service
 * (docs/architecture.md, "Realisation status"): per key of the owned hosts'
 * views, the log position of the change that last wrote it; per owned host
 * with keys, the position of the latest change to its view (S_h, also
 * written to the host as `<h>.position.view`); and an index from each
 * resource to the keys holding it, so "which hosts hold resource r, and at
 * what position" looks at r's keys only, not at every key of every host.
 *
 * Not part of the derivation: the views are the same with or without it.
 * Live, each event's writes move the positions of the keys and hosts they
 * touch to the event's sequence; the start-up reconcile sets every key and
 * host to the position it reconciled at (conservative: never too low).
 */
import { hostviewKey, parseHostviewKey, type RealisedKind } from '@strata/contracts';
import type { KvOp } from './diff.js';

/** A host and a log position. */
export interface HostPosition {
  hostId: string;
  position: number;
}

/** What the positions need of the views (HostViews). */
export interface ViewKeys {
  hosts(): Iterable<string>;
  keysOf(hostId: string): ReadonlyMap<string, string>;
}

/** The value of a host's position key: canonical JSON, like every host-view value. */
export const positionValue = (seq: number): string => JSON.stringify({ seq });

/** A position value (positionValue's) carrying the trace of its write, for the agent to continue (ViewPosition's `trace`). */
export const tracedPositionValue = (value: string, trace: { traceparent: string; tracestate?: string }): string =>
  JSON.stringify({ ...(JSON.parse(value) as { seq: number }), trace });

const ref = (kind: RealisedKind, id: string): string => `${kind} ${id}`;

/**
 * The resources a key holds (libs/contracts/src/status/hostview-query.ts):
 * port: port, ep and member keys (by the member's port); network: net;
 * router: domain; security group: sg and member keys (by group); chain: chain.
 */
export function resourcesOfKey(key: string): string[] {
  const k = parseHostviewKey(key);
  if (!k) return [];
  switch (k.kind) {
    case 'port':
    case 'ep':
      return [ref('port', k.id)];
    case 'member':
      return [ref('port', k.portId), ref('security-group', k.id)];
    case 'net':
      return [ref('network', k.id)];
    case 'domain':
      return [ref('router', k.id)];
    case 'sg':
      return [ref('security-group', k.id)];
    case 'chain':
      return [ref('chain', k.id)];
    // A gateway binding's realisation is not one of the status service's resource kinds (yet).
    case 'l2gw':
    case 'host':
    case 'position':
      return [];
  }
}

const byHost = (a: HostPosition, b: HostPosition): number => (a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0);

export class ViewPositions {
  private readonly keys = new Map<string, number>();
  private readonly hosts = new Map<string, number>();
  private readonly index = new Map<string, Set<string>>();

  /**
   * A live event at `seq` made these writes (HostViews.apply's ops, one
   * host's keys each). Returns the position writes to queue after them: for
   * each host written, its position, or the position key's delete when its
   * view has no key left (`hasKeys`).
   */
  record(ops: readonly KvOp[], seq: number, hasKeys: (hostId: string) => boolean): KvOp[] {
    const touched = new Set<string>();
    for (const o of ops) {
      const k = parseHostviewKey(o.key);
      if (!k || k.kind === 'position') continue;
      touched.add(k.hostId);
      if (o.op === 'put') this.put(o.key, seq);
      else this.remove(o.key);
    }
    const out: KvOp[] = [];
    for (const hostId of touched) {
      const key = hostviewKey.position(hostId);
      if (hasKeys(hostId)) {
        this.hosts.set(hostId, seq);
        out.push({ op: 'put', key, value: positionValue(seq) });
      } else {
        this.hosts.delete(hostId);
        out.push({ op: 'delete', key });
      }
    }
    return out;
  }

  /** The start-up reconcile at `seq`: every key of every owned host was (re)written as of `seq`. */
  reset(views: ViewKeys, seq: number): void {
    this.keys.clear();
    this.hosts.clear();
    this.index.clear();
    for (const hostId of views.hosts()) {
      const keys = views.keysOf(hostId);
      if (keys.size === 0) continue;
      this.hosts.set(hostId, seq);
      for (const key of keys.keys()) this.put(key, seq);
    }
  }

  /** The latest change position of an owned host with keys (undefined: none). */
  hostPosition(hostId: string): number | undefined {
    return this.hosts.get(hostId);
  }

  /** Every owned host with keys and its latest change position, by host id. */
  hostPositions(): HostPosition[] {
    return [...this.hosts].map(([hostId, position]) => ({ hostId, position })).sort(byHost);
  }

  /** The position of the change that last wrote a key (undefined: no such key). */
  keyPosition(key: string): number | undefined {
    return this.keys.get(key);
  }

  /** The hosts holding a resource and, on each, the position of the latest change of its keys there; by host id. */
  holders(kind: RealisedKind, id: string): HostPosition[] {
    const latest = new Map<string, number>();
    for (const key of this.index.get(ref(kind, id)) ?? []) {
      const hostId = parseHostviewKey(key)!.hostId;
      latest.set(hostId, Math.max(latest.get(hostId) ?? 0, this.keys.get(key)!));
    }
    return [...latest].map(([hostId, position]) => ({ hostId, position })).sort(byHost);
  }

  private put(key: string, seq: number): void {
    if (!this.keys.has(key)) {
      for (const r of resourcesOfKey(key)) {
        let set = this.index.get(r);
        if (set === undefined) this.index.set(r, (set = new Set()));
        set.add(key);
      }
    }
    this.keys.set(key, seq);
  }

  private remove(key: string): void {
    if (!this.keys.delete(key)) return;
    for (const r of resourcesOfKey(key)) {
      const set = this.index.get(r);
      set?.delete(key);
      if (set?.size === 0) this.index.delete(r);
    }
  }
}
