import { ValidationError } from '@strata/errors';
import { envelopeOf, envelopeProblem } from './envelope.js';
import type { EventCatalog } from './schema.js';
import type { AggregateRef, AppendOptions, EventEnvelope } from './types.js';

/** Default subject prefix of the domain stream; the stream captures `<prefix>.>`. */
export const DEFAULT_SUBJECT_PREFIX = 'strata.evt';

// A NATS subject token: no separators, wildcards or whitespace (NATS would
// silently treat them as structure, routing events to the wrong aggregate).
const BAD_TOKEN = /[.*>\s]/;

function checkToken(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || BAD_TOKEN.test(value)) {
    throw new ValidationError(`${field} must be a non-empty NATS subject token (no '.', '*', '>' or whitespace)`, {
      field,
      value: typeof value === 'string' ? value : String(value),
    });
  }
  return value;
}

/** `<prefix>.<context>.<type>.<id>`, after validating each token. */
export function aggregateSubject(ref: AggregateRef, prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  return `${prefix}.${checkToken(ref.context, 'aggregate.context')}.${checkToken(ref.type, 'aggregate.type')}.${checkToken(ref.id, 'aggregate.id')}`;
}

/**
 * Boundary checks shared by every store, so both behave identically on bad
 * input: the envelope readers will parse (the same schema), the aggregate,
 * and, given a catalog, the type, version and data against the context's
 * registry. A writer cannot append what readers would have to quarantine.
 */
export function validateAppend(ref: AggregateRef, event: EventEnvelope, options: AppendOptions, catalog?: EventCatalog): void {
  if (
    event.aggregate === undefined ||
    event.aggregate.context !== ref.context ||
    event.aggregate.type !== ref.type ||
    event.aggregate.id !== ref.id
  ) {
    throw new ValidationError('event.aggregate must equal the aggregate appended to', { field: 'aggregate' });
  }
  if (typeof event.id !== 'string' || event.id.length === 0) {
    throw new ValidationError('event.id is required', { field: 'id' });
  }
  if (typeof event.type !== 'string' || event.type.length === 0) {
    throw new ValidationError('event.type is required', { field: 'type' });
  }
  if (!Number.isInteger(event.version) || event.version < 1) {
    throw new ValidationError('event.version must be a positive integer', { field: 'version' });
  }
  const ev = options.expectedVersion;
  if (ev !== 'none' && ev !== 'any' && !(Number.isInteger(ev) && ev >= 0)) {
    throw new ValidationError(`expectedVersion must be 'none', 'any' or a sequence >= 0`, { field: 'expectedVersion' });
  }
  const problem = envelopeProblem(envelopeOf(event));
  if (problem !== undefined) throw new ValidationError(`event envelope is invalid: ${problem}`, { field: problem.split(':')[0] ?? '' });
  catalog?.check(event);
}

/** The numeric form of an expected version ('none' is "no event yet" = 0); undefined for 'any'. */
export function expectedSeq(ev: AppendOptions['expectedVersion']): number | undefined {
  if (ev === 'any') return undefined;
  return ev === 'none' ? 0 : ev;
}

/** NATS subject matching: `*` is one token, `>` one or more trailing tokens. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const tok = f[i];
    if (tok === '>') return s.length > i;
    if (i >= s.length) return false;
    if (tok !== '*' && tok !== s[i]) return false;
  }
  return f.length === s.length;
}
