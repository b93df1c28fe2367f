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
 * Every few seconds each instance also withdraws the MACs of bindings that
 * are gone or moved (the same deterministic ids: written once).
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from 'nats';
import { GATEWAY_MACS_OBSERVATIONS, GatewayMacsObservation, reporterOfSubject } from '@strata/contracts';
import type { Logger, ServiceMetrics } from '@strata/runtime';
import { decideGatewayMacs, decideStaleGatewayMacs, gatewayMacEventId, judgeGatewayMacs, judgeStaleGatewayMacs, type Decision } from '../domain/decide/index.js';
import type { IpamState } from '../domain/state.js';
import type { IpamExecutor, IpamProjection } from './handlers.js';

export interface GatewayMacsReportsDeps {
  nc: NatsConnection;
  executor: IpamExecutor;
  projection: IpamProjection;
  logger: Logger;
  metrics: ServiceMetrics;
  sweepMs?: number;
}

/** Subscribe and handle reports until stopped. */
export function startGatewayMacsReports(deps: GatewayMacsReportsDeps): { stop(): Promise<void> } {
  const { nc, executor, projection, logger } = deps;
  const outcomes = deps.metrics.counter('strata_ipam_gateway_macs_reports_total', 'Gateway hosts\' learned-MAC reports, by outcome (changed, unchanged, ignored reasons, malformed, failed)', ['outcome']);
  const sub: Subscription = nc.subscribe(GATEWAY_MACS_OBSERVATIONS, { queue: 'ipam' });
  /** Record one difference per round until the decider says "done" (the set is finite); the events written. */
  const recordAll = async (decide: (state: IpamState) => Decision, actor: string, tenant: string): Promise<number> => {
    const requestId = randomUUID();
    let written = 0;
    for (;;) {
      const at = new Date().toISOString();
      const caller = { actor, tenant, admin: false, requestId, at };
      const r = await executor.execute(decide, { caller, correlationId: requestId, causationId: null, eventId: gatewayMacEventId });
      if (!r.written) return written;
      written++;
    }
  };
  // A deleted or moved binding's MACs go even if its gateway host never reports again.
  let sweeping = false;
  const sweep = setInterval(() => {
    if (sweeping || judgeStaleGatewayMacs(projection.state).kind === 'unchanged') return;
    sweeping = true;
    recordAll(decideStaleGatewayMacs, 'ipam', '_system')
      .then((n) => n > 0 && logger.info({ events: n }, 'gateway MACs of gone or moved bindings withdrawn'))
      .catch((err: unknown) => logger.warn({ err }, 'gateway MACs of gone bindings not withdrawn'))
      .finally(() => (sweeping = false));
  }, deps.sweepMs ?? 5_000);
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
        const written = await recordAll(decideGatewayMacs(reporter, report), `agent:${reporter}`, verdict.decision.tenant);
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
      clearInterval(sweep);
      sub.unsubscribe();
      await loop;
    },
  };
}
