/** What the audit service answers (the gRPC AuditService and `strata audit` show these). */
import type { EventRef, ResourceView } from './history.js';
import type { AuditKind } from './kinds.js';

/** The log position a question was answered at, and how it was named. */
export interface AuditPoint {
  /** The position used: every event up to and including it, none after. */
  seq: number;
  /** When the log stored the event at `seq`. */
  storedAt: string;
  /** What the caller gave: `position N` or `time T` (resolved once, to `seq`: the last event stored at or before T). */
  requested: string;
}

/** A resource located in the log, with the points of a question resolved. */
export interface AuditLocation {
  kind: AuditKind;
  id: string;
  /** The owning service's context and the aggregate whose events hold the resource. */
  context: string;
  aggregateId: string;
  tenant: string;
  /** The points asked, resolved to positions, in the order asked. */
  points: AuditPoint[];
  /** The log's last position when asked (the point of "now"). */
  lastSeq: AuditPoint;
}

export interface AuditShow {
  kind: AuditKind;
  id: string;
  at: AuditPoint;
  /** The resource as it was at `at` (null: it did not exist then — not yet created, or deleted). */
  view: ResourceView;
  /** The event that made it so (null when it did not exist yet at `at`). */
  lastChange: EventRef | null;
}

/** One changed field: a dotted path into the view (array entries with an `id` keyed `[id]`, other arrays whole). */
export interface FieldChange {
  path: string;
  /** undefined: the field did not exist before (added); after undefined: removed. JSON null stays null. */
  before?: unknown;
  after?: unknown;
  event: EventRef;
}

export interface AuditDiff {
  kind: AuditKind;
  id: string;
  from: AuditPoint;
  to: AuditPoint;
  before: ResourceView;
  after: ResourceView;
  /** Every field change in (from, to], in log order, each with the event that made it. */
  changes: FieldChange[];
}

export interface BlamedField {
  path: string;
  value: unknown;
  /** The event that last set this field. */
  event: EventRef;
}

export interface AuditBlame {
  kind: AuditKind;
  id: string;
  at: AuditPoint;
  view: ResourceView;
  fields: BlamedField[];
}

/**
 * One line of what a host's view means on the kernel, as the agent renders
 * it (its own pure desired-state code): `kind` says what it is, `where` the
 * network namespace (and table/chain/set or device) it belongs in, `text`
 * the item itself in the syntax of the tool that shows it (`nft`, `ip
 * route`, `ip neigh`, `bridge fdb`). Two renderings are compared line by line.
 */
export interface HostLine {
  kind: 'link' | 'address' | 'route' | 'neighbour' | 'fdb' | 'nft-rule' | 'nft-set' | 'nft-element' | 'dhcp';
  where: string;
  text: string;
}

export interface HostAt {
  hostId: string;
  at: AuditPoint;
  lines: HostLine[];
  /** Host-view keys the rendering came from. */
  keys: number;
  snapshotSeq: number;
  replayed: number;
}

export interface HostLineChange {
  change: 'added' | 'removed';
  line: HostLine;
  /** The event after which the line appeared or went (null when the interval had too many events to render each, see `perEvent`). */
  event: EventRef | null;
}

export interface HostDiff {
  hostId: string;
  from: AuditPoint;
  to: AuditPoint;
  changes: HostLineChange[];
  /** Every event in (from, to] that changed the host's view, with the keys it changed. */
  events: Array<{ event: EventRef; keys: string[] }>;
  /** Whether each line change was attributed by rendering after every event (false past MAX_HOST_DIFF_EVENTS events: only the endpoints were rendered). */
  perEvent: boolean;
  snapshotSeq: number;
  replayed: number;
}
