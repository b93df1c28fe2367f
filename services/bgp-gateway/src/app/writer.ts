/** What the parts of the gateway that write observations to the log share (app/recorder.ts, app/session-limits.ts). */
import type { Logger, ServiceMetrics } from '@strata/runtime';
import type { Executor } from '@strata/service-kit';
import { SYSTEM_TENANT, type NewBgpEvent } from '../domain/decide/index.js';
import type { BgpState } from '../domain/state.js';
import type { Observer } from './observer.js';

export interface ObservationWriter {
  projection: { readonly state: BgpState; waitFor(seq: number): Promise<void> };
  executor: Executor<BgpState, NewBgpEvent>;
  observer: Observer;
  logger: Logger;
  metrics: ServiceMetrics;
  /** ms since epoch (injected for tests). */
  now: () => number;
}

/** The caller of an observation: the gateway itself, for the cloud, at `now`. */
export const gatewayCaller = (requestId: string, now: number) => ({ actor: 'bgp-gateway', tenant: SYSTEM_TENANT, admin: true, requestId, at: new Date(now).toISOString() });
