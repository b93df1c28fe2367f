/**
 * What must hold after every fault, each checked against the log itself:
 *   - acknowledged commands lost = 0: every acknowledged request id caused
 *     an event in the log (at the position its acknowledgement carried);
 *   - applied twice = 0: no request id caused two events of one type;
 *   - every service's state digest = the digest of a fresh replay of the
 *     log up to the same position (the service's own fold, from nothing);
 *   - every host's view (its host-view bucket) = a fresh derivation (the
 *     log folded into an empty model, the host derived in full).
 */
import type { NatsConnection } from 'nats';
import { ipamEvents, eventFilter, IPAM_CONTEXT, hostviewBucket, parseHostviewKey } from '@strata/contracts';
import type { JetStreamEventStore, StoredEvent } from '@strata/eventlog';
import { applyEvent, deriveHost, emptyModel, toModelEvent } from '@strata/hostview';
import { foldIpam, initialState as ipamInitial, stateDigest } from '@strata/ipam';
import { foldSecgroup, initialState as secgroupInitial, PROJECTION_SUBJECT as SECGROUP_SUBJECT } from '@strata/secgroup';
import { foldNat, initialState as natInitial, PROJECTION_SUBJECT as NAT_SUBJECT } from '@strata/nat';
import { foldChaining, initialState as chainingInitial, PROJECTION_SUBJECT as CHAINING_SUBJECT } from '@strata/chaining';
import { applyStored as foldStatus, initialState as statusInitial, PROJECTION_SUBJECT as STATUS_SUBJECT } from '@strata/status';
import { ChainingClient, IpamClient, NatClient, SecgroupClient, SeqTracker, StatusClient, ADMIN } from '@strata/lab';
import { replayDigest } from '@strata/service-kit/testing';
import type { CommandSigner } from '@strata/runtime';
import type { Ledger } from './ledger.js';

export interface Digest {
  seq: number;
  sha256: string;
}

/** A service whose state digest the checks compare with a replay. */
interface Replayed {
  name: string;
  live(minSeq: number): Promise<Digest>;
  replay(toSeq: number): Promise<Digest>;
}

/** Every event of the log, in order. */
export async function readLog(store: JetStreamEventStore): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.read()) out.push(e);
  return out;
}

export interface LedgerAudit {
  /** Acknowledged request ids with no event in the log. */
  lost: string[];
  /** Request ids that caused two events of one type (`<request id> <type> ×n`). */
  duplicated: string[];
}

/** The ledger against the log: what was acknowledged is there, once. */
export function auditLedger(ledger: Ledger, log: readonly StoredEvent[]): LedgerAudit {
  const byRequest = new Map<string, StoredEvent[]>();
  for (const e of log) {
    if (e.causationId === null) continue;
    const list = byRequest.get(e.causationId);
    if (list) list.push(e);
    else byRequest.set(e.causationId, [e]);
  }
  const lost: string[] = [];
  const duplicated: string[] = [];
  for (const entry of ledger.all()) {
    const events = byRequest.get(entry.requestId) ?? [];
    if (entry.outcome === 'acknowledged') {
      // The acknowledgement's position is the request's last event (a retry answered from the request index carries the original's).
      const at = entry.position === undefined ? events : events.filter((e) => e.seq === entry.position);
      if (at.length === 0) lost.push(`${entry.requestId} ${entry.op} (acknowledged at ${entry.position ?? 'no position'})`);
    }
    const types = new Map<string, number>();
    for (const e of events) types.set(e.type, (types.get(e.type) ?? 0) + 1);
    for (const [type, n] of types) if (n > 1) duplicated.push(`${entry.requestId} ${entry.op}: ${type} ×${n}`);
  }
  return { lost, duplicated };
}

/** The five event-sourced services' digests, asked as the api asks (signed, read-your-writes at `minSeq`). */
export class ServiceDigests {
  private readonly services: Replayed[];

  constructor(nc: NatsConnection, store: JetStreamEventStore, signer: CommandSigner) {
    const seq = new SeqTracker();
    const ipam = new IpamClient(nc, 5_000, seq, signer);
    const secgroup = new SecgroupClient(nc, 5_000, seq, signer);
    const nat = new NatClient(nc, 5_000, seq, signer);
    const chaining = new ChainingClient(nc, 5_000, seq, signer);
    const status = new StatusClient(nc, 5_000, seq, signer);
    const at = (minSeq: number): void => seq.observe(minSeq);
    this.services = [
      {
        name: 'ipam',
        live: async (m) => (at(m), ipam.query('state.digest', {}, ADMIN)),
        replay: async (toSeq) => {
          const state = ipamInitial();
          for await (const e of store.read({ subject: eventFilter(IPAM_CONTEXT), toSeq })) foldIpam(state, ipamEvents.decode(e));
          return stateDigest(state);
        },
      },
      { name: 'secgroup', live: async (m) => (at(m), secgroup.query('state.digest', {}, ADMIN)), replay: (s) => replayDigest(store, foldSecgroup, secgroupInitial(), s, SECGROUP_SUBJECT) },
      { name: 'nat', live: async (m) => (at(m), nat.query('state.digest', {}, ADMIN)), replay: (s) => replayDigest(store, foldNat, natInitial(), s, NAT_SUBJECT) },
      { name: 'chaining', live: async (m) => (at(m), chaining.query('state.digest', {}, ADMIN)), replay: (s) => replayDigest(store, foldChaining, chainingInitial(), s, CHAINING_SUBJECT) },
      { name: 'status', live: async (m) => (at(m), status.query('state.digest', {}, ADMIN)), replay: (s) => replayDigest(store, foldStatus, statusInitial(), s, STATUS_SUBJECT) },
    ];
  }

  /** Services whose digest (once they have reached `minSeq`) differs from a replay to the same position, with why; [] when all agree. */
  async mismatches(minSeq: number): Promise<string[]> {
    const out: string[] = [];
    for (const s of this.services) {
      try {
        const live = await s.live(minSeq);
        const replayed = await s.replay(live.seq);
        if (live.sha256 !== replayed.sha256) out.push(`${s.name}: live ${live.sha256.slice(0, 12)} at ${live.seq} ≠ replay ${replayed.sha256.slice(0, 12)}`);
      } catch (err) {
        out.push(`${s.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return out;
  }
}

/** Hosts whose bucket differs from a fresh derivation from the whole log, with the first differing keys; [] when all agree. */
export async function viewMismatches(admin: NatsConnection, store: JetStreamEventStore, hosts: readonly string[]): Promise<string[]> {
  const model = emptyModel();
  for await (const stored of store.read()) {
    const event = toModelEvent(stored);
    if (event) applyEvent(model, event);
  }
  const out: string[] = [];
  for (const host of hosts) {
    const derived = deriveHost(model, host);
    const kv = await admin.jetstream().views.kv(hostviewBucket(host), { bindOnly: true });
    const live = new Map<string, string>();
    // Keys first, values after: a get inside the keys iteration ends it early.
    const keys: string[] = [];
    for await (const k of await kv.keys()) if (parseHostviewKey(k)?.kind !== 'position') keys.push(k);
    for (const k of keys) {
      const e = await kv.get(k);
      if (e?.operation === 'PUT') live.set(k, e.string());
    }
    const differing = [...new Set([...derived.keys(), ...live.keys()])].filter((k) => derived.get(k) !== live.get(k));
    if (differing.length > 0) {
      const [k] = differing;
      out.push(`${host}: ${differing.length} keys differ, e.g. ${k}: live ${live.get(k!) ?? 'absent'}, derived ${derived.get(k!) ?? 'absent'}`);
    }
  }
  return out;
}
