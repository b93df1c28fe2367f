/**
 * Status derived on demand: the projection's state, this instance's
 * observations of the agents and hostview's positions, joined by the pure
 * derivations of domain/. Used by the queries and by the change publisher,
 * so both say the same thing.
 */
import { StrataError, ErrorCode } from '@strata/errors';
import type { BarrierView, HypervisorStatusView, PortStatusView, RealisationView, ResourceRef } from '@strata/contracts';
import { agentState, type AgentState } from '../domain/agents.js';
import { hypervisorView } from '../domain/hypervisor.js';
import { portStatus } from '../domain/port-status.js';
import { barrier, realisation } from '../domain/realisation.js';
import type { StatusState } from '../domain/state.js';
import type { AskHostview } from './hostview.js';
import type { Observations } from './observations.js';

export class StatusReader {
  constructor(
    private readonly observations: Pick<Observations, 'get'>,
    private readonly ask: AskHostview,
  ) {}

  private agentOf(state: StatusState): (hostId: string) => AgentState {
    return (hostId) => agentState(state, hostId, this.observations.get(hostId));
  }

  /** A port's status; undefined when the port is not (or no longer) in the state. */
  async port(state: StatusState, portId: string): Promise<PortStatusView | undefined> {
    const seq = state.seq;
    const where = await this.ask(seq, { kind: 'port', id: portId });
    const port = state.ports[portId];
    return port && portStatus({ port, holders: where.holders, seq: where.seq, agentOf: this.agentOf(state) });
  }

  async resource(state: StatusState, ref: ResourceRef): Promise<RealisationView> {
    const where = await this.ask(state.seq, ref);
    return realisation(ref.kind, ref.id, where.holders, this.agentOf(state), where.seq);
  }

  /** hostview is asked to reach `position` first, so every change up to it is in its answer. */
  async barrier(state: StatusState, position: number): Promise<BarrierView> {
    const where = await this.ask(position);
    return barrier(position, where.hosts, this.agentOf(state));
  }

  /** Each host's view position; undefined when hostview cannot say now (a hypervisor's view then shows null, never a wrong value). */
  async viewPositions(state: StatusState): Promise<Map<string, number> | undefined> {
    try {
      const where = await this.ask(state.seq);
      return new Map(where.hosts.map((h) => [h.hostId, h.position]));
    } catch (err) {
      if (err instanceof StrataError && err.code === ErrorCode.Unavailable) return undefined;
      throw err;
    }
  }

  hypervisor(state: StatusState, hostId: string, positions: Map<string, number> | undefined): HypervisorStatusView {
    return hypervisorView(state, hostId, this.observations.get(hostId), positions?.get(hostId) ?? null);
  }
}
