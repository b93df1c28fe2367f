/**
 * Points in the log: a position or a time, resolved once to the position
 * every answer is given at (docs/architecture.md "Points in the log").
 * A time is the last event stored at or before it; the log's own time index
 * finds it (EventStore.pointAtTime), so no point costs a scan.
 */
import type { AuditPoint, AuditPointRequest } from '@strata/contracts';
import { IllegalStateError, ValidationError } from '@strata/errors';
import type { EventStore, LogPoint } from '@strata/eventlog';

export type LogPoints = Pick<EventStore, 'lastSeq' | 'pointAt' | 'pointAtTime'>;

const point = (p: LogPoint, requested: string): AuditPoint => ({ seq: p.seq, storedAt: p.storedAt, requested });

/** The log's last event: the point of "now", and the end every point is checked against. */
export async function lastPoint(log: LogPoints): Promise<AuditPoint> {
  const last = await log.pointAt(await log.lastSeq());
  if (last === undefined) throw new IllegalStateError('the event log is empty: there is no point in it to audit');
  return point(last, 'now');
}

/**
 * One point, resolved against the log whose last event is `last` (read
 * once per question, so every point of one answer is at or before it).
 * `field` names the request field in errors (`at`, `from`, `to`).
 */
export async function resolvePoint(log: LogPoints, req: AuditPointRequest, last: AuditPoint, field: string): Promise<AuditPoint> {
  if (req.position !== undefined) {
    if (req.position > last.seq) {
      throw new ValidationError(`${field}: position ${req.position} is past the end of the log (its last position is ${last.seq})`, { field: `${field}.position` });
    }
    const p = await log.pointAt(req.position);
    // Events are never deleted from the log: a position up to its end always holds one.
    if (p === undefined) throw new IllegalStateError(`${field}: position ${req.position} holds no event`);
    return point(p, `position ${req.position}`);
  }
  const time = req.time!;
  const p = await log.pointAtTime(new Date(time));
  if (p === undefined) {
    const first = await log.pointAt(1);
    const began = first ? `it began at ${first.storedAt} (position ${first.seq})` : 'it is empty';
    throw new ValidationError(`${field}: time ${time} is before the log began (${began})`, { field: `${field}.time` });
  }
  // An event stored since `last` was read is still at or before `time`, and so is `last`: the answer stays within the question's log.
  return p.seq > last.seq ? { ...last, requested: `time ${time}` } : point(p, `time ${time}`);
}

/** Several points of one question, in the order asked. */
export async function resolvePoints(log: LogPoints, reqs: readonly AuditPointRequest[], last: AuditPoint, fields: readonly string[]): Promise<AuditPoint[]> {
  const out: AuditPoint[] = [];
  for (const [i, req] of reqs.entries()) out.push(await resolvePoint(log, req, last, fields[i] ?? `points[${i}]`));
  return out;
}
