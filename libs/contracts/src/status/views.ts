/**
 * The status service's answers: realisation of resources on the hosts
 * whose views hold them, ports' status (Neutron's DOWN/BUILD/ACTIVE/ERROR)
 * and hypervisors' agent liveness.
 */
import type { RealisedKind } from './hostview-query.js';

export const PortStatusValue = ['DOWN', 'BUILD', 'ACTIVE', 'ERROR'] as const;
export type PortStatusValue = (typeof PortStatusValue)[number];

/** A host whose view holds the resource but whose agent has not applied it (yet). */
export interface HostBehind {
  hostId: string;
  /** The position its view must reach (the latest change of the resource's keys there). */
  position: number;
  /** The position its agent has applied (null: none yet). */
  appliedPosition: number | null;
  /** "agent down since …", "agent applied 120 of 131", "last apply failed: …". */
  reason: string;
}

/** "Applied on n of m affected hosts", and who is behind. */
export interface RealisationView {
  kind: RealisedKind;
  id: string;
  /** Hosts whose views hold the resource (m). */
  hosts: number;
  /** Of those, hosts whose agent applied its latest change (n). */
  applied: number;
  behind: HostBehind[];
  /** applied === hosts (vacuously true for a resource no host holds). */
  realised: boolean;
  /** The log position the answer was computed at (hostview's). */
  seq: number;
}

export interface PortStatusView {
  portId: string;
  status: PortStatusValue;
  /** Why it is not ACTIVE ('' when it is): "not bound to a hypervisor", "not plugged on h1", "agent on h1 down since …", the agent's error. */
  reason: string;
  hostId: string | null;
  /** Realisation of the port on every host holding it (its own and its peers'). */
  realisation: RealisationView;
}

export interface HypervisorStatusView {
  hostId: string;
  /** Registered with IPAM. */
  registered: boolean;
  /** Reporting within the liveness timeout. */
  alive: boolean;
  /** Status service's clock; null if never seen. */
  lastSeenAt: string | null;
  bootId: string | null;
  version: string | null;
  appliedPosition: number | null;
  /** The latest position written to its view (hostview's). */
  viewPosition: number | null;
  error: string | null;
  /** Since when `alive` has its current value (the liveness event's time). */
  since: string | null;
}

/** "Is everything up to position N realised on every host it affects?" */
export interface BarrierView {
  position: number;
  realised: boolean;
  /** Hosts that have changes up to `position` their agents have not applied. */
  behind: HostBehind[];
  /** Hosts with a view (all partitions). */
  hosts: number;
}

/**
 * Published on `strata.realised.<tenant>.<kind>.<id>` (admins' hypervisor
 * changes on `strata.realised._admin.hypervisor.<host>`), core NATS, JSON:
 * the resource's whole status after the change (a state, not a delta: a
 * watcher that sees one twice, e.g. from two status instances, loses nothing).
 */
export type StatusChange =
  | { kind: 'port'; tenant: string; id: string; status: PortStatusView }
  | { kind: Exclude<RealisedKind, 'port'>; tenant: string; id: string; realisation: RealisationView }
  | { kind: 'hypervisor'; tenant: ''; id: string; hypervisor: HypervisorStatusView };

/** `_admin` cannot be a tenant id (tenant ids start alphanumeric), so hypervisor changes never reach a tenant's watch. */
export const REALISED_ADMIN_TOKEN = '_admin';
export const realisedSubject = (tenant: string, kind: RealisedKind, id: string): string => `strata.realised.${tenant}.${kind}.${id}`;
export const realisedHypervisorSubject = (hostId: string): string => `strata.realised.${REALISED_ADMIN_TOKEN}.hypervisor.${hostId}`;
/** Every status change of one tenant's resources (a tenant's watch), and of every hypervisor (an admin's). */
export const realisedTenantFilter = (tenant: string): string => `strata.realised.${tenant}.>`;
export const REALISED_HYPERVISORS = `strata.realised.${REALISED_ADMIN_TOKEN}.hypervisor.*`;
/** Every status change, hypervisors included (an admin's unfiltered watch). */
export const REALISED_ALL = 'strata.realised.>';
