/**
 * A host at a point and between two, from hostview's past views
 * (HostviewAtReply) and a rendering of a view into kernel lines (the
 * agent's own pure code, injected): pure, so the tests check it on any
 * views and any renderer.
 */
import {
  MAX_HOST_DIFF_EVENTS,
  type AuditPoint,
  type HostAt,
  type HostDiff,
  type HostLine,
  type HostLineChange,
  type HostviewAtReply,
  type HostViewKeys,
} from '@strata/contracts';

/** A host's view (its keys and values) as the lines the agent would make of it on the kernel. */
export type RenderHost = (hostId: string, view: HostViewKeys) => HostLine[];

const lineKey = (l: HostLine): string => `${l.kind}\u0000${l.where}\u0000${l.text}`;

/** Lines added and removed from one rendering to the next (removed first, then added, each in rendering order). */
export function lineChanges(before: readonly HostLine[], after: readonly HostLine[]): Array<Omit<HostLineChange, 'event'>> {
  const was = new Set(before.map(lineKey));
  const is = new Set(after.map(lineKey));
  return [
    ...before.filter((l) => !is.has(lineKey(l))).map((line) => ({ change: 'removed' as const, line })),
    ...after.filter((l) => !was.has(lineKey(l))).map((line) => ({ change: 'added' as const, line })),
  ];
}

export function hostAt(render: RenderHost, hostId: string, at: AuditPoint, reply: HostviewAtReply): HostAt {
  return { hostId, at, lines: render(hostId, reply.view), keys: Object.keys(reply.view).length, snapshotSeq: reply.snapshotSeq, replayed: reply.replayed };
}

/**
 * What changed on a host in (from, to]. With at most MAX_HOST_DIFF_EVENTS
 * events that changed its view, the view is rendered after each of them, so
 * every line change names its event (a line added and removed again in the
 * interval shows both, in log order); past that only the endpoints are
 * rendered and the changes are the net difference, naming no event
 * (`perEvent` false). `events` lists every view-changing event either way.
 */
export function hostDiff(render: RenderHost, hostId: string, from: AuditPoint, to: AuditPoint, reply: HostviewAtReply): HostDiff {
  const start = reply.from?.view ?? reply.view;
  const steps = reply.from?.changes ?? [];
  const events = steps.map((c) => ({ event: c.event, keys: Object.keys(c.keys).sort() }));
  const base = { hostId, from, to, events, snapshotSeq: reply.snapshotSeq, replayed: reply.replayed };
  if (steps.length > MAX_HOST_DIFF_EVENTS) {
    const changes = lineChanges(render(hostId, start), render(hostId, reply.view)).map((c) => ({ ...c, event: null }));
    return { ...base, changes, perEvent: false };
  }
  const view: Record<string, unknown> = { ...start };
  let lines = render(hostId, view);
  const changes: HostLineChange[] = [];
  for (const step of steps) {
    for (const [key, value] of Object.entries(step.keys)) {
      if (value === null) delete view[key];
      else view[key] = value;
    }
    const next = render(hostId, { ...view });
    for (const c of lineChanges(lines, next)) changes.push({ ...c, event: step.event });
    lines = next;
  }
  return { ...base, changes, perEvent: true };
}
