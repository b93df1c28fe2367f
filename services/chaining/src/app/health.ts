/**
 * Agents' health reports (`strata.status.<host>.health`, a plain core NATS
 * subscription in the service's queue group: one instance handles each
 * report). A report is accepted only from the host the function's ingress
 * port is bound to; others are ignored and counted. Agents re-send their
 * reports periodically, so a report lost here (or in a restart) is repaired
 * by the next one; the deciders are idempotent, their event ids derived from
 * the decision, and the executor's version check settles two instances.
 */
import type { NatsConnection, Subscription } from 'nats';
import { HEALTH_OBSERVATIONS, HealthObservation, reporterOfSubject } from '@strata/contracts';
import type { Logger, ServiceMetrics } from '@strata/runtime';
import { reactorEventId } from '@strata/service-kit';
import { decideHealth, reportStanding, type HealthReport } from '../domain/decide/index.js';
import type { ChainingExecutor, ChainingProjection } from './projection.js';

/** Steps one report may take: its health change, then one active-member change per group of the function. */
const MAX_STEPS = 20;

export interface HealthReportsDeps {
  nc: NatsConnection;
  executor: ChainingExecutor;
  projection: ChainingProjection;
  logger: Logger;
  metrics: ServiceMetrics;
}

export function followHealthReports(d: HealthReportsDeps): { stop(): Promise<void> } {
  const reports = d.metrics.counter('strata_chaining_health_reports_total', 'health reports received, by outcome', ['outcome']);
  const sub: Subscription = d.nc.subscribe(HEALTH_OBSERVATIONS, { queue: 'chaining' });
  const loop = (async () => {
    for await (const m of sub) {
      let body: unknown;
      try {
        body = m.json<unknown>();
      } catch {
        reports.inc({ outcome: 'malformed' });
        continue;
      }
      try {
        await handle(d, reporterOfSubject(m.subject), body, (outcome) => reports.inc({ outcome }));
      } catch (err) {
        reports.inc({ outcome: 'failed' });
        d.logger.warn({ err, subject: m.subject }, 'health report not handled (the agent re-sends it)');
      }
    }
  })();
  return {
    async stop() {
      sub.unsubscribe();
      await loop;
    },
  };
}

async function handle(d: HealthReportsDeps, reporter: string, body: unknown, count: (outcome: string) => void): Promise<void> {
  const parsed = HealthObservation.safeParse(body);
  if (!parsed.success || parsed.data.hostId !== reporter) return count('malformed');
  const report: HealthReport = { reporter, functionId: parsed.data.functionId, healthy: parsed.data.healthy, detail: parsed.data.detail };
  const standing = reportStanding(d.projection.state, report);
  if (standing !== 'accepted') {
    d.logger.info({ reporter, functionId: report.functionId, standing }, 'health report ignored');
    return count(standing);
  }
  const caller = { actor: 'chaining', tenant: d.projection.state.functions[report.functionId]!.tenant, admin: true, requestId: `health:${reporter}:${report.functionId}`, at: new Date().toISOString() };
  let acted = false;
  for (let step = 0; step < MAX_STEPS; step++) {
    const r = await d.executor.execute((s) => decideHealth(s, report), { caller, correlationId: caller.requestId, causationId: null, eventId: reactorEventId });
    if (!r.written) return count(acted ? 'acted' : 'unchanged');
    acted = true;
  }
  throw new Error(`health report for ${report.functionId} still had work after ${MAX_STEPS} steps`);
}
