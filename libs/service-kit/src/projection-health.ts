/**
 * Whether a reader still follows the log, as a metric: a projection that
 * threw on an event it decoded stops applying (it never skips one) and fails
 * readiness; `strata_projection_up{reader}` says so to Prometheus too, where
 * the alert "a projection that stopped" reads it (infra/prometheus/alerts.yml).
 */
import type { ServiceMetrics } from '@strata/runtime';
import { Gauge } from 'prom-client';

export function reportProjectionUp(metrics: ServiceMetrics, reader: string, healthy: () => boolean): void {
  new Gauge({
    name: 'strata_projection_up',
    help: '1 while the reader applies the log, 0 once it stopped on an event (see the service log and /readyz)',
    labelNames: ['reader'] as const,
    registers: [metrics.registry],
    collect() {
      this.set({ reader }, healthy() ? 1 : 0);
    },
  });
}
