/**
 * The one subject filter a reader of the domain stream gives its consumer,
 * for the contexts it reads. Written once here because it is a property of
 * the server, not of any reader.
 *
 * nats-server 2.9 consumers take ONE filter subject (2.10 takes several), so
 * a reader of two or more contexts cannot filter server-side: it reads the
 * whole stream in stream order and skips the other contexts' events itself
 * (only their sequence counts). That is also what such a reader wants: one
 * total order across its inputs and one sequence for read-your-writes.
 *
 * "The whole stream" is NO filter, never `strata.evt.>`: nats-server 2.9.10
 * miscounts `num_pending` for a consumer whose filter equals the stream's
 * whole subject space and that starts past sequence 1 (seen: the last
 * message reports 1 pending), and a store's "caught up" waits for a message
 * reporting 0, so a restart from a snapshot never became ready. Unfiltered
 * counts right.
 *
 * With nats-server 2.10 this becomes one filter per context (`filter_subjects`).
 */
import { DEFAULT_SUBJECT_PREFIX } from './subjects.js';

/**
 * `<prefix>.<context>.>` for a reader of one context; `undefined` (read
 * unfiltered, skip client-side) for a reader of several.
 */
export function feedFilter(contexts: readonly string[], prefix: string = DEFAULT_SUBJECT_PREFIX): string | undefined {
  const distinct = [...new Set(contexts)];
  if (distinct.length === 0) throw new Error('a feed reads at least one context');
  return distinct.length === 1 ? `${prefix}.${distinct[0]}.>` : undefined;
}
