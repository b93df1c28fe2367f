/**
 * Agents' gratuitous-ARP reports (`strata.status.<host>.garp`, plain core
 * NATS, libs/contracts/src/observations.ts) → `ipam.AddressPairOwnerChanged`.
 *
 * One queue group over IPAM's instances, so each report is judged once; a
 * second instance judging it anyway (a redelivery, a twin report) writes
 * nothing more: the event id is derived from the decision and a conflict is
 * decided again ("unchanged"). The reporter is the host the subject names
 * (its NATS user may publish only there); a report is accepted only for a
 * port bound to that host and an address of the port's pairs with the
 * pair's MAC (domain/decide/pairs.ts). Everything else is counted and
 * dropped: reports are observations, so a lost one is repaired by the next
 * GARP (keepalived repeats them), never by a retry here.
 */
import type { NatsConnection, Subscription } from 'nats';
import { GARP_OBSERVATIONS, GarpObservation, reporterOfSubject } from '@strata/contracts';
import type { Logger, ServiceMetrics } from '@strata/runtime';
import { decideGarp, garpEventId, judgeGarp } from '../domain/decide/index.js';
import type { IpamExecutor, IpamProjection } from './handlers.js';

export interface GarpReportsDeps {
  nc: NatsConnection;
  executor: IpamExecutor;
  projection: IpamProjection;
  logger: Logger;
  metrics: ServiceMetrics;
}

/** Subscribe and handle reports until stopped. */
export function startGarpReports(deps: GarpReportsDeps): { stop(): Promise<void> } {
  const { nc, executor, projection, logger } = deps;
  const outcomes = deps.metrics.counter('strata_ipam_garp_reports_total', 'GARP reports from agents, by outcome (owner-changed, unchanged, ignored reasons, malformed, failed)', ['outcome']);
  const sub: Subscription = nc.subscribe(GARP_OBSERVATIONS, { queue: 'ipam' });
  const loop = (async () => {
    for await (const msg of sub) {
      const reporter = reporterOfSubject(msg.subject);
      let report: GarpObservation;
      try {
        report = GarpObservation.parse(msg.json());
      } catch {
        outcomes.inc({ outcome: 'malformed' });
        continue;
      }
      const verdict = judgeGarp(projection.state, reporter, report);
      if (verdict.kind === 'ignore') {
        outcomes.inc({ outcome: verdict.reason });
        // At info: a report about another host's port is what a compromised agent would send.
        logger.info({ reporter, report, reason: verdict.reason }, 'GARP report ignored');
        continue;
      }
      if (verdict.kind === 'unchanged') {
        outcomes.inc({ outcome: 'unchanged' });
        continue;
      }
      try {
        const at = new Date().toISOString();
        const requestId = garpEventId(verdict.decision);
        const caller = { actor: `agent:${reporter}`, tenant: verdict.decision.tenant, admin: false, requestId, at };
        const r = await executor.execute(decideGarp(reporter, report), { caller, correlationId: requestId, causationId: null, eventId: garpEventId });
        outcomes.inc({ outcome: r.written ? 'owner-changed' : 'unchanged' });
        if (r.written) logger.info({ reporter, ...report }, 'address pair owner changed');
      } catch (err) {
        outcomes.inc({ outcome: 'failed' });
        logger.warn({ err, reporter, report }, 'GARP report not recorded');
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
