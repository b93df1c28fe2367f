/**
 * KV entries of `<hostId>.>` → a HostViewSnapshot. Pure (no NATS): the
 * watcher feeds it entries, tests feed it by hand.
 */
import { GroupMember, HostInfo, HostNetwork, HostSecurityGroup, LocalPort, RemoteEndpoint, RoutingDomain } from '@strata/contracts';
import type { z } from 'zod';
import { emptySnapshot, type HostViewSnapshot } from '../core/snapshot.js';

export interface ViewEntry {
  key: string;
  operation: 'PUT' | 'DEL' | 'PURGE';
  revision: number;
  /** JSON text or bytes; ignored for DEL/PURGE. */
  value: Uint8Array | string;
}

type Collection = 'networks' | 'ports' | 'endpoints' | 'domains' | 'groups' | 'members';
/** Key token after the host → where the object goes; the rest of the key is its id (`member`: `<groupId>.<portId>`). */
const COLLECTIONS: Record<string, { field: Collection; schema: z.ZodType }> = {
  net: { field: 'networks', schema: HostNetwork },
  port: { field: 'ports', schema: LocalPort },
  ep: { field: 'endpoints', schema: RemoteEndpoint },
  domain: { field: 'domains', schema: RoutingDomain },
  sg: { field: 'groups', schema: HostSecurityGroup },
  member: { field: 'members', schema: GroupMember },
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

export class HostViewStore {
  private readonly view: HostViewSnapshot = emptySnapshot();
  private _revision = 0;

  constructor(private readonly hostId: string) {}

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
    const rest = e.key.slice(prefix.length);
    const removed = e.operation !== 'PUT';
    if (rest === 'host') {
      if (removed) delete this.view.host;
      else this.view.host = parse(e, HostInfo) as HostInfo;
      return;
    }
    const dot = rest.indexOf('.');
    const c = dot > 0 ? COLLECTIONS[rest.slice(0, dot)] : undefined;
    const id = rest.slice(dot + 1);
    if (!c || id === '') throw new InvalidEntryError(e.key, 'unknown key');
    const records = this.view[c.field] as Record<string, unknown>;
    if (removed) delete records[id];
    else records[id] = parse(e, c.schema);
  }

  /** A copy that later entries do not change (objects themselves are never mutated). */
  snapshot(): HostViewSnapshot {
    const v = this.view;
    return {
      ...(v.host ? { host: v.host } : {}),
      networks: { ...v.networks },
      ports: { ...v.ports },
      endpoints: { ...v.endpoints },
      domains: { ...v.domains },
      groups: { ...v.groups },
      members: { ...v.members },
    };
  }
}

function parse(e: ViewEntry, schema: z.ZodType): unknown {
  let data: unknown;
  try {
    data = JSON.parse(typeof e.value === 'string' ? e.value : new TextDecoder().decode(e.value));
  } catch {
    throw new InvalidEntryError(e.key, 'value is not JSON');
  }
  const r = schema.safeParse(data);
  if (!r.success) throw new InvalidEntryError(e.key, r.error.message);
  return r.data;
}
