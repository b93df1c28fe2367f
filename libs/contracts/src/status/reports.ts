/**
 * What an agent tells the control plane about its own progress: the host
 * view position it has applied, its ports' state, and that it is alive.
 * Observations, not decisions: the status service turns them into port
 * status, realisation counts and the hypervisor's liveness events.
 *
 *   strata.status.<host>            AgentReport: after every pass (applied or
 *                                   failed) and when asked to (resync)
 *   strata.status.<host>.heartbeat  AgentHeartbeat: every heartbeat interval
 *   strata.agentctl.<host>.report   (status service → agent, empty body)
 *                                   "publish your full report now": a status
 *                                   instance that starts, or that sees a
 *                                   heartbeat for a report it never had
 *
 * An agent's NATS user publishes only under its own `strata.status.<host>`
 * and `strata.status.<host>.>`, and subscribes only to its own
 * `strata.agentctl.<host>.>`, so a report's subject names its reporter.
 */
import { z } from 'zod';

/** A local port as the agent last found it. */
export const ReportedPort = z.object({
  portId: z.string(),
  /**
   * up: its device exists, is plugged and the applied view's filter and
   * forwarding for it are in the kernel; down: its device does not exist
   * (not plugged); error: the last pass touching it failed (see `error`).
   */
  state: z.enum(['up', 'down', 'error']),
  /** Why it is down or in error (the apply error text), '' when up. */
  reason: z.string(),
});
export type ReportedPort = z.infer<typeof ReportedPort>;

/** The same for every report of one agent process. */
const Identity = {
  hostId: z.string(),
  /** A random id per agent process: a new one means the agent restarted. */
  bootId: z.string(),
  /** The agent's software version (its package version). */
  version: z.string(),
  startedAt: z.string(),
  /** When this message was sent (agent's clock; the status service times liveness on its own clock). */
  sentAt: z.string(),
};

export const AgentReport = z.object({
  ...Identity,
  /** Increments each time the kernel was brought to a new desired state (per process). */
  generation: z.number().int(),
  /**
   * The log position of the host view the kernel now reflects (the view's
   * `<host>.position.view` when the applied pass read it); null before the
   * first successful pass.
   */
  appliedPosition: z.number().int().nullable(),
  /** KV revision of that view (diagnostics). */
  viewRevision: z.number().int(),
  appliedAt: z.string().nullable(),
  /** Every port the applied (or attempted) view binds to this host. */
  ports: z.array(ReportedPort),
  /** Last pass's error, null when the last pass succeeded (the agent retries and resyncs). */
  error: z.string().nullable(),
});
export type AgentReport = z.infer<typeof AgentReport>;

/** Small and frequent: liveness, and enough to notice a report that was missed. */
export const AgentHeartbeat = z.object({
  ...Identity,
  generation: z.number().int(),
  appliedPosition: z.number().int().nullable(),
  error: z.string().nullable(),
});
export type AgentHeartbeat = z.infer<typeof AgentHeartbeat>;

export const agentReportSubject = (hostId: string): string => `strata.status.${hostId}`;
export const agentHeartbeatSubject = (hostId: string): string => `strata.status.${hostId}.heartbeat`;
export const agentResyncSubject = (hostId: string): string => `strata.agentctl.${hostId}.report`;
/** What the status service subscribes to. */
export const AGENT_REPORTS = 'strata.status.*';
export const AGENT_HEARTBEATS = 'strata.status.*.heartbeat';
