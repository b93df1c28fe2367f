/**
 * A service's request contract as one value: for every command and query,
 * the NATS subject it is served on and the zod schemas of its request and
 * its reply. The service serves exactly these operations (service-kit's
 * `commandHandlers`/`queryHandlers`), and every caller — the api, the lab,
 * the benchmarks, the tests — sends through one `ContractClient` typed by
 * it (libs/runtime), so no side keeps its own list of names and types.
 */
import type { z } from 'zod';
import { commandSubject, querySubject } from './subjects.js';

/** One operation as declared: what a caller sends and what the service answers with. */
export interface OperationSchemas<Req extends z.ZodType = z.ZodType, Rep extends z.ZodType = z.ZodType> {
  request: Req;
  reply: Rep;
}

/** One operation of a defined contract: its schemas and its subject (`strata.cmd|qry.<service>.<op>`). */
export type Operation<O extends OperationSchemas = OperationSchemas> = O & { readonly subject: string };

export type Operations = Record<string, OperationSchemas>;

export interface Contract<C extends Operations = Operations, Q extends Operations = Operations> {
  /** The service: subject token and queue group. */
  readonly name: string;
  readonly commands: { readonly [K in keyof C]: Operation<C[K]> };
  readonly queries: { readonly [K in keyof Q]: Operation<Q[K]> };
}

function withSubjects<O extends Operations>(ops: O, subject: (op: string) => string): { readonly [K in keyof O]: Operation<O[K]> } {
  return Object.fromEntries(Object.entries(ops).map(([op, o]) => [op, { ...o, subject: subject(op) }])) as { [K in keyof O]: Operation<O[K]> };
}

/** The contract of service `name`: commands go to `strata.cmd.<name>.<op>`, queries to `strata.qry.<name>.<op>` (subjects.ts). */
export function defineContract<C extends Operations, Q extends Operations>(name: string, ops: { commands: C; queries: Q }): Contract<C, Q> {
  return { name, commands: withSubjects(ops.commands, (op) => commandSubject(name, op)), queries: withSubjects(ops.queries, (op) => querySubject(name, op)) };
}

export type CommandName<C extends Contract> = keyof C['commands'] & string;
export type QueryName<C extends Contract> = keyof C['queries'] & string;
/** A command as callers write it (defaults not yet applied). */
export type CommandInput<C extends Contract, K extends CommandName<C>> = z.input<C['commands'][K]['request']>;
/** A command as the service's decider receives it (parsed: defaults applied, values canonical). */
export type CommandRequest<C extends Contract, K extends CommandName<C>> = z.output<C['commands'][K]['request']>;
export type CommandReply<C extends Contract, K extends CommandName<C>> = z.output<C['commands'][K]['reply']>;
export type QueryInput<C extends Contract, K extends QueryName<C>> = z.input<C['queries'][K]['request']>;
export type QueryRequest<C extends Contract, K extends QueryName<C>> = z.output<C['queries'][K]['request']>;
export type QueryReply<C extends Contract, K extends QueryName<C>> = z.output<C['queries'][K]['reply']>;

/**
 * For a compile-time check that a schema parses to exactly a view type
 * (`true satisfies Exactly<z.output<typeof S>, View>`): a field one has and
 * the other lacks, or a different field type, fails the build.
 */
export type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
