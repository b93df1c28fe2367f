/** The read side of a service over NATS: queries answered straight from the projection. */
import type { Handler } from '@strata/runtime';
import { callerOf, type Caller } from './decision.js';
import type { ProjectedState } from './projection.js';

/** A query: the state as `caller` may see it, shaped as the query's view (the request body is validated by its schema). */
export type QueryFn<S> = (state: S, caller: Caller, query: never) => unknown;

/**
 * One NATS handler per query schema, each answering from the projection's
 * current state with the state's sequence. Read-your-writes: a caller that
 * saw sequence N (`meta.minSeq`) never reads a state older than N.
 */
export function projectionQueryHandlers<S extends ProjectedState, N extends string>(
  schemas: { readonly [K in N]: Handler['schema'] },
  queries: { readonly [K in N]: QueryFn<S> },
  projection: { readonly state: S; waitFor(seq: number): Promise<void> },
): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const name of Object.keys(schemas) as N[]) {
    const query = queries[name];
    out[name] = {
      schema: schemas[name],
      async handle(body, meta) {
        if (meta.minSeq !== undefined) await projection.waitFor(meta.minSeq);
        const state = projection.state;
        return { result: query(state, callerOf(meta), body as never), seq: state.seq };
      },
    };
  }
  return out;
}
