/**
 * A service function's health, as the agent on its appliance's host counts
 * it from probe results. Pure.
 *
 * Consecutive failures take a healthy function out after `fall` of them;
 * consecutive successes bring an unhealthy one back after `rise`. A result
 * that agrees with the current state resets the opposite count, so a
 * flapping probe (fail, ok, fail, ok …) never changes the state. The state
 * starts from what the chaining service last decided (the host view's
 * `healthy`), so an agent restart does not report a transition it did not see.
 */
import type { HealthCheck } from '@strata/contracts';

export interface HealthState {
  healthy: boolean;
  /** Consecutive successes while unhealthy. */
  successes: number;
  /** Consecutive failures while healthy. */
  failures: number;
  /** Probes counted since the state was made (a report is worth sending only after one). */
  probes: number;
}

export const initialHealth = (healthy: boolean): HealthState => ({ healthy, successes: 0, failures: 0, probes: 0 });

/** One probe's result → the next state, and whether the function changed health. */
export function countProbe(s: HealthState, ok: boolean, check: Pick<HealthCheck, 'rise' | 'fall'>): { state: HealthState; changed: boolean } {
  const probes = s.probes + 1;
  if (s.healthy) {
    const failures = ok ? 0 : s.failures + 1;
    if (failures >= Math.max(1, check.fall)) return { state: { healthy: false, successes: 0, failures: 0, probes }, changed: true };
    return { state: { ...s, failures, successes: 0, probes }, changed: false };
  }
  const successes = ok ? s.successes + 1 : 0;
  if (successes >= Math.max(1, check.rise)) return { state: { healthy: true, successes: 0, failures: 0, probes }, changed: true };
  return { state: { ...s, successes, failures: 0, probes }, changed: false };
}

/** What a report says about the probes behind it, for the audit trail. */
export function healthDetail(check: HealthCheck, target: string, healthy: boolean, lastError: string | null): string {
  const what = check.protocol === 'icmp' ? `ICMP echo to ${target}` : `TCP connect to ${target}:${check.port ?? '?'}`;
  const n = healthy ? check.rise : check.fall;
  return healthy
    ? `${what} answered (${n} in a row needed, timeout ${check.timeoutMs} ms)`
    : `${what} failed ${n} times in a row (timeout ${check.timeoutMs} ms)${lastError ? `: ${lastError}` : ''}`;
}
