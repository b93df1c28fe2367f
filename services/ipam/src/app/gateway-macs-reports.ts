/**
 * Gateway hosts' learned-MAC snapshots (`strata.status.<host>.l2gw-macs`,
 * plain core NATS, libs/contracts/src/observations.ts) →
 * `ipam.PhysicalMacLearned`/`ipam.PhysicalMacWithdrawn`, judged by
 * domain/decide/gateway-macs.ts against the host the subject names.
 *
 * One queue group over IPAM's instances, as for GARP reports
 * (garp-reports.ts): a report's differences are recorded one event at a
 * time, each re-judged on the version it is appended to, with an id
 * derived from the decision, so a second instance judging the same report
 * writes nothing more. Anything refused is counted and dropped: the agent
 * sends the full set again within ~30 s, which repairs a lost report.
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from 'nats';
import { GATEWAY_MACS_OBSERVATIONS, GatewayMacsObservation, reporterOfSubject } from '@strata/contracts';
import type { Logger, ServiceMetrics } from '@strata/runtime';
import { decideGatewayMacs, gatewayMacEventId, judgeGatewayMacs } from '../domain/decide/index.js';
import type { IpamExecutor, IpamProjection } from './handlers.js';

export interface GatewayMacsReportsDeps {
  nc: NatsConnection;
  executor: IpamExecutor;
  projection: IpamProjection;
  logger: Logger;
  metrics: ServiceMetrics;
}

/** Subscribe and handle reports until stopped. */
export function startGatewayMacsReports(deps: GatewayMacsReportsDeps): { stop(): Promise<void> } {
  const { nc, executor, projection, logger } = deps;
  const outcomes = deps.metrics.counter('strata_ipam_gateway_macs_reports_total', 'Gateway hosts\' learned-MAC reports, by outcome (changed, unchanged, ignored reasons, malformed, failed)', ['outcome']);
  const sub: Subscription = nc.subscribe(GATEWAY_MACS_OBSERVATIONS, { queue: 'ipam' });
  const loop = (async () => {
    for await (const msg of sub) {
      const reporter = reporterOfSubject(msg.subject);
      let report: GatewayMacsObservation;
      try {
        report = GatewayMacsObservation.parse(msg.json());
      } catch {
        outcomes.inc({ outcome: 'malformed' });
        continue;
      }
      const verdict = judgeGatewayMacs(projection.state, reporter, report);
      if (verdict.kind !== 'change') {
        outcomes.inc({ outcome: verdict.kind === 'ignore' ? verdict.reason : 'unchanged' });
        // At info: a report naming another device's binding is what a compromised agent would send.
        if (verdict.kind === 'ignore') logger.info({ reporter, reason: verdict.reason }, 'gateway MAC report ignored');
        continue;
      }
      try {
        let written = 0;
        const requestId = randomUUID();
        // Each round records one difference; the set is finite, so this ends when the decider says "done".
        for (;;) {
          const at = new Date().toISOString();
          const caller = { actor: `agent:${reporter}`, tenant: verdict.decision.tenant, admin: false, requestId, at };
          const r = await executor.execute(decideGatewayMacs(reporter, report), { caller, correlationId: requestId, causationId: null, eventId: gatewayMacEventId });
          if (!r.written) break;
          written++;
        }
        outcomes.inc({ outcome: written > 0 ? 'changed' : 'unchanged' });
        if (written > 0) logger.info({ reporter, events: written }, 'gateway MACs recorded');
      } catch (err) {
        outcomes.inc({ outcome: 'failed' });
        logger.warn({ err, reporter }, 'gateway MAC report not recorded');
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
