/**
 * Waiting through the API: for the write barrier at a log position
 * (Barrier, admin-only) and for one resource (GetRealisation: a port until
 * ACTIVE, anything else until applied on every host holding it). Used by
 * `strata wait` and by `--wait` after a write.
 */
import { status } from '@grpc/grpc-js';
import type { BarrierResponse__Output, Realisation__Output } from '@strata/proto';
import type { Api } from '../client.js';
import { NotRealisedError, isServiceError, statusName } from '../errors.js';
import { describeBarrier, describeRealisation, isRealised } from './describe.js';
import { pollUntil, systemClock, type Check, type Clock, type PollResult } from './poll.js';
import { progressOn } from './progress.js';
import type { Io } from '../output.js';

export interface ResourceRef {
  kind: string;
  id: string;
}

export interface WaitContext {
  api: Api;
  io: Io;
  /** Clock time by which it must be done. */
  deadline: number;
  /** --timeout as given, for the message. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  clock?: Clock;
}

/** The API or the status service briefly unreachable: keep waiting, saying so. */
function transient(err: unknown): string | undefined {
  if (!isServiceError(err)) return undefined;
  if (err.code !== status.UNAVAILABLE && err.code !== status.DEADLINE_EXCEEDED) return undefined;
  return `status not available (${statusName(err.code)}): retrying`;
}

export function formatDuration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

async function poll(ctx: WaitContext, check: () => Promise<Check>): Promise<string> {
  const progress = progressOn(ctx.io);
  let result: PollResult;
  try {
    result = await pollUntil(check, {
      clock: ctx.clock ?? systemClock,
      deadline: ctx.deadline,
      onCheck: (line) => progress.update(line),
      transient,
      signal: ctx.signal,
    });
  } finally {
    progress.done();
  }
  if (result.outcome === 'done') return result.line;
  const why = result.outcome === 'interrupted' ? 'interrupted before it was realised' : `not realised within ${formatDuration(ctx.timeoutMs)}`;
  throw new NotRealisedError('TIMEOUT', `${why}: ${result.line}`);
}

/** Until everything up to `position` is applied on every host it affects; answers the last Barrier reply. */
export async function waitForPosition(ctx: WaitContext, position: number): Promise<BarrierResponse__Output> {
  let last: BarrierResponse__Output | undefined;
  await poll(ctx, async () => {
    const { api } = ctx;
    last = await api.call<BarrierResponse__Output>((md, opts, cb) => api.status.Barrier({ position }, md, opts, cb));
    return { done: last.realised, line: describeBarrier(last) };
  });
  return last!;
}

/** Until the resource is realised (a port: ACTIVE), answered at least as of `minPosition`; answers the last reply. */
export async function waitForResource(ctx: WaitContext, ref: ResourceRef, minPosition?: number): Promise<Realisation__Output> {
  let last: Realisation__Output | undefined;
  await poll(ctx, async () => {
    const { api } = ctx;
    const req = { kind: ref.kind, id: ref.id, minPosition };
    last = await api.call<Realisation__Output>((md, opts, cb) => api.status.GetRealisation(req, md, opts, cb));
    return { done: isRealised(last), line: describeRealisation(last) };
  });
  return last!;
}
