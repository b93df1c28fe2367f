import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A service's own metric registry. Not prom-client's global one, so several
 * services (or tests) can live in one process without name clashes.
 */
export interface ServiceMetrics {
  readonly registry: Registry;
  /** Get-or-create, so independent components (e.g. a command and a query server) can share a metric. */
  counter<L extends string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  histogram<L extends string>(name: string, help: string, labelNames?: readonly L[], buckets?: number[]): Histogram<L>;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop lag); off in unit tests that only look at their own metrics. */
  defaultMetrics?: boolean;
}

export function createMetrics(service: string, options: MetricsOptions = {}): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  function existing<M>(name: string, kind: string): M | undefined {
    const metric = registry.getSingleMetric(name);
    if (metric === undefined) return undefined;
    if (!(metric instanceof (kind === 'counter' ? Counter : Histogram))) {
      throw new Error(`metric ${name} is already registered with another type`);
    }
    return metric as M;
  }

  return {
    registry,
    counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
      return (
        existing<Counter<L>>(name, 'counter') ?? new Counter({ name, help, labelNames, registers: [registry] })
      );
    },
    histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]) {
      return (
        existing<Histogram<L>>(name, 'histogram') ??
        new Histogram({ name, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) })
      );
    },
  };
}
