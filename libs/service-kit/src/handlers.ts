/**
 * A service's NATS operations from its contract (defineContract in
 * @strata/contracts): one handler per command and per query the contract
 * declares, each validating with the contract's request schema (serve does)
 * and typed by it. Commands run through the executor; queries answer
 * straight from the projection.
 */
import type { CommandName, CommandReply, CommandRequest, Contract, QueryName, QueryReply, QueryRequest } from '@strata/contracts';
import type { Handler } from '@strata/runtime';
import { callerOf, clientCommand, type Caller, type Decision } from './decision.js';
import type { Executed, ExecuteMeta, NewEvent } from './executor.js';
import type { ProjectedState } from './projection.js';

/** A command carried out as two request steps, e.g. IPAM's network delete: close the network (`first`), then delete it (`second`). */
export interface TwoStepCommand<S, E> {
  first: string;
  second: string;
  /** The second decision, once the first is appended; `resourceId` is what the first answered with. */
  decide(state: S, resourceId: string): Decision<E>;
}

/** The view each command answers with, read from the state that includes its write; typed as the contract's reply. */
export type CommandAnswers<C extends Contract, S> = { readonly [K in CommandName<C>]: (state: S, caller: Caller, resourceId: string) => CommandReply<C, K> };

export interface CommandHandling<C extends Contract, S extends ProjectedState, E extends NewEvent, Ctx> {
  executor: { execute(decide: (state: S) => Decision<E>, meta: ExecuteMeta<E>): Promise<Executed> };
  projection: { readonly state: S };
  /** Pure, one per command of the contract: (state, parsed command, context) → decision. */
  deciders: { readonly [K in CommandName<C>]: (state: S, command: CommandRequest<C, K>, ctx: Ctx) => Decision<E> };
  /** What the deciders read besides state and command: the caller, and what else is the service's (IPAM's policy). */
  context: (caller: Caller) => Ctx;
  answers: CommandAnswers<C, S>;
  twoStep?: { readonly [K in CommandName<C>]?: TwoStepCommand<S, E> };
}

/**
 * One handler per command: decide against the projection's state as the
 * caller (an idempotent client request, see executor.ts), then answer with
 * the command's view and the sequence of its write (read-your-writes).
 */
export function commandHandlers<C extends Contract, S extends ProjectedState, E extends NewEvent, Ctx>(
  contract: C,
  h: CommandHandling<C, S, E, Ctx>,
): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const name of Object.keys(contract.commands) as Array<CommandName<C>>) {
    const decide = h.deciders[name] as (state: S, command: unknown, ctx: Ctx) => Decision<E>;
    const answer = h.answers[name];
    const twoStep = h.twoStep?.[name];
    out[name] = {
      schema: contract.commands[name]!.request,
      async handle(body, meta, { trace }) {
        const command = clientCommand(name, body, meta, trace);
        const ctx = h.context(command.caller);
        let done = await h.executor.execute((s) => decide(s, body, ctx), twoStep ? { ...command, step: twoStep.first } : command);
        if (twoStep) {
          const first = done.resourceId;
          done = await h.executor.execute((s) => twoStep.decide(s, first), { ...command, step: twoStep.second });
        }
        return { result: answer(h.projection.state, command.caller, done.resourceId), seq: done.seq };
      },
    };
  }
  return out;
}

/**
 * One answer per query of the contract: the state as the caller may see it,
 * shaped as the query's reply (or a promise of it, for an answer that also
 * asks another service, as the status service asks hostview).
 */
export type QueryAnswers<C extends Contract, S> = {
  readonly [K in QueryName<C>]: (state: S, caller: Caller, query: QueryRequest<C, K>) => QueryReply<C, K> | Promise<QueryReply<C, K>>;
};

/**
 * One handler per query, each answering from the projection's current state
 * with the state's sequence. Read-your-writes: a caller that saw sequence N
 * (`meta.minSeq`) never reads a state older than N.
 */
export function queryHandlers<C extends Contract, S extends ProjectedState>(
  contract: C,
  answers: QueryAnswers<C, S>,
  projection: { readonly state: S; waitFor(seq: number, timeoutMs?: number): Promise<void> },
): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const name of Object.keys(contract.queries) as Array<QueryName<C>>) {
    const answer = answers[name] as (state: S, caller: Caller, query: unknown) => unknown;
    out[name] = {
      schema: contract.queries[name]!.request,
      async handle(body, meta) {
        if (meta.minSeq !== undefined) await projection.waitFor(meta.minSeq, meta.minSeqWaitMs);
        const state = projection.state;
        const seq = state.seq;
        return { result: await answer(state, callerOf(meta), body), seq };
      },
    };
  }
  return out;
}
