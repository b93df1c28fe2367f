/**
 * Agents' reports and heartbeats (core NATS, `strata.status.<host>` and
 * `strata.status.<host>.heartbeat`), heard by every status instance (no
 * queue group: each keeps every host's latest, so any instance answers and
 * decides liveness alike). The reporter is the subject's host token, which
 * its NATS user alone may publish on; a body naming another host is refused.
 * Kept in memory only: a restarted instance asks every registered host for
 * its full report (`strata.agentctl.<host>.report`), and asks again when a
 * heartbeat names a process or generation whose report it does not have.
 */
import type { NatsConnection, Subscription } from 'nats';
import { AGENT_HEARTBEATS, AGENT_REPORTS, AgentHeartbeat, AgentReport, agentResyncSubject } from '@strata/contracts';
import type { Logger, ServiceMetrics } from '@strata/runtime';
import { observe, type AgentMessage, type Observation } from '../domain/agents.js';

export interface ObservationsOptions {
  nc: NatsConnection;
  logger: Logger;
  metrics: ServiceMetrics;
  /** The service's clock (ms). */
  now: () => number;
  /** After a host's observation changed in a way a status derives from. */
  onChange: (hostId: string) => void;
  /** After every message (liveness is re-decided on each). */
  onHeard: (hostId: string) => void;
}

/** `strata.status.<host>` / `strata.status.<host>.heartbeat` → host. */
const reporterOf = (subject: string): string => subject.split('.')[2]!;

export class Observations {
  private readonly byHost = new Map<string, Observation>();
  /** Per host, the process and generation a report was last asked for (one request per missed report). */
  private readonly asked = new Map<string, string>();
  private subs: Subscription[] = [];
  private loops: Promise<void>[] = [];

  constructor(private readonly o: ObservationsOptions) {}

  get(hostId: string): Observation | undefined {
    return this.byHost.get(hostId);
  }

  start(): void {
    const received = this.o.metrics.counter('strata_status_agent_messages_total', 'agent reports and heartbeats received, by kind and outcome', ['kind', 'outcome']);
    const listen = (subject: string, kind: AgentMessage['kind']): void => {
      const sub = this.o.nc.subscribe(subject);
      this.subs.push(sub);
      this.loops.push(
        (async () => {
          for await (const m of sub) {
            const outcome = this.receive(kind, reporterOf(m.subject), m.data);
            received.inc({ kind, outcome });
          }
        })(),
      );
    };
    listen(AGENT_REPORTS, 'report');
    listen(AGENT_HEARTBEATS, 'heartbeat');
  }

  /** Ask a host's agent for its full report now. */
  askReport(hostId: string): void {
    if (!this.o.nc.isClosed()) this.o.nc.publish(agentResyncSubject(hostId));
  }

  private receive(kind: AgentMessage['kind'], reporter: string, data: Uint8Array): 'accepted' | 'malformed' | 'impostor' {
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(data));
    } catch {
      return 'malformed';
    }
    const parsed = kind === 'report' ? AgentReport.safeParse(body) : AgentHeartbeat.safeParse(body);
    if (!parsed.success) return 'malformed';
    if (parsed.data.hostId !== reporter) {
      this.o.logger.warn({ reporter, claimed: parsed.data.hostId, kind }, 'agent message naming another host ignored');
      return 'impostor';
    }
    const message = { kind, body: parsed.data } as AgentMessage;
    const { next, changed, needReport } = observe(this.byHost.get(reporter), message, this.o.now());
    this.byHost.set(reporter, next);
    const key = `${next.heard.bootId}/${next.generation}`;
    if (needReport && this.asked.get(reporter) !== key) {
      this.asked.set(reporter, key);
      this.askReport(reporter);
    }
    this.o.onHeard(reporter);
    if (changed) this.o.onChange(reporter);
    return 'accepted';
  }

  async stop(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    await Promise.all(this.loops);
  }
}
