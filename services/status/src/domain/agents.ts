/**
 * What the agents said, as this instance heard it (observations, in memory,
 * never replayed): per host the last message's identity and progress and
 * the latest full report. Pure: `observe` folds one message, `agentState`
 * joins a host's observation with the log's liveness decision into what the
 * derivations read.
 */
import type { AgentHeartbeat, AgentReport, ReportedPort } from '@strata/contracts';
import type { Heard } from './liveness.js';
import type { StatusState } from './state.js';

export interface Observation {
  /** The last message (report or heartbeat). */
  heard: Heard;
  generation: number;
  appliedPosition: number | null;
  error: string | null;
  /** The latest full report (any process or generation: see `currentReport`). */
  report: AgentReport | undefined;
}

export type AgentMessage = { kind: 'report'; body: AgentReport } | { kind: 'heartbeat'; body: AgentHeartbeat };

export interface Observed {
  next: Observation;
  /** Something a status derives from changed (process, generation, applied position, error, ports). */
  changed: boolean;
  /** The last message names a process or generation whose full report this instance does not have: ask the agent for it. */
  needReport: boolean;
}

/** Fold one message of a host's agent, received at `at` (status service's clock). */
export function observe(prev: Observation | undefined, message: AgentMessage, at: number): Observed {
  const b = message.body;
  const report = message.kind === 'report' ? message.body : prev?.report;
  const next: Observation = {
    heard: { at, bootId: b.bootId, version: b.version },
    generation: b.generation,
    appliedPosition: b.appliedPosition,
    error: b.error,
    report,
  };
  const changed =
    prev === undefined ||
    prev.heard.bootId !== b.bootId ||
    prev.generation !== b.generation ||
    prev.appliedPosition !== b.appliedPosition ||
    prev.error !== b.error ||
    (message.kind === 'report' && !samePorts(prev.report?.ports, message.body.ports));
  return { next, changed, needReport: currentReport(next) === undefined };
}

/** The full report of the process and generation last heard from, if this instance has it. */
export function currentReport(o: Observation): AgentReport | undefined {
  const r = o.report;
  return r !== undefined && r.bootId === o.heard.bootId && r.generation === o.generation ? r : undefined;
}

function samePorts(a: readonly ReportedPort[] | undefined, b: readonly ReportedPort[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  return a.every((p, i) => p.portId === b[i]!.portId && p.state === b[i]!.state && p.reason === b[i]!.reason);
}

/** A host's agent as the derivations read it. */
export interface AgentState {
  hostId: string;
  registered: boolean;
  /** The log's liveness decision (a host never decided about is presumed alive). */
  alive: boolean;
  /** When the latest liveness decision was made; null: none yet. */
  since: string | null;
  /** Heard since this instance started. */
  heard: boolean;
  appliedPosition: number | null;
  error: string | null;
  /** Its ports' states from the report of its current process and generation; undefined: no such report (yet). */
  ports: ReadonlyMap<string, ReportedPort> | undefined;
}

export function agentState(state: StatusState, hostId: string, o: Observation | undefined): AgentState {
  const record = state.liveness[hostId];
  const report = o && currentReport(o);
  return {
    hostId,
    registered: hostId in state.hypervisors,
    alive: record?.alive ?? true,
    since: record?.since ?? null,
    heard: o !== undefined,
    appliedPosition: o?.appliedPosition ?? null,
    error: o?.error ?? null,
    ports: report && new Map(report.ports.map((p) => [p.portId, p])),
  };
}
