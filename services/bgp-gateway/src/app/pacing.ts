/**
 * When the gateway's next pass may start. Two kinds of wake-up, two rules:
 *
 * - gobgpd's reports (an appliance's UPDATEs, session changes) and timers:
 *   a flapping appliance sends hundreds of updates a second, and each would
 *   otherwise wake a pass of its own. Passes for them start at most every
 *   ENGINE_WAKE_INTERVAL_MS; what arrives meanwhile coalesces.
 * - a state change (the projection applied an event): a route to withdraw
 *   or add is waiting, so the pass starts as soon as the loop has rested
 *   REST_FACTOR times as long as the last pass took (passes then use at
 *   most a third of the loop's time however fast events come; events that
 *   arrive during the pass and the rest coalesce into it), and never later
 *   than the first rule would start it. A change after a quiet spell starts
 *   its pass at once.
 *
 * Before issue 21 both waited for the 100 ms interval: an isolated
 * withdrawal then waited up to 100 ms for its pass (the withdraw latency's
 * median was that wait). Events cannot flood this path the way UPDATEs can:
 * what an appliance's flapping writes to the log is damped (domain/damping.ts).
 */
export const ENGINE_WAKE_INTERVAL_MS = 100;
export const REST_FACTOR = 2;

/** The last pass's start and end, in the loop's clock (ms). */
export interface PassSpan {
  startedAt: number;
  endedAt: number;
}

/** Earliest start of the next pass (−Infinity: now); `stateChanged`: a state change is among the pending wake-ups. */
export function nextPassStart(last: PassSpan | undefined, stateChanged: boolean): number {
  if (!last) return -Infinity;
  const interval = last.startedAt + ENGINE_WAKE_INTERVAL_MS;
  return stateChanged ? Math.min(interval, last.endedAt + REST_FACTOR * (last.endedAt - last.startedAt)) : interval;
}
