/**
 * The one typed client of a service contract (defineContract in
 * @strata/contracts): `command`/`query` take an operation name of the
 * contract and its request as callers write it, and answer with the reply
 * type the contract declares. Signing, the reply inbox and the error mapping
 * are the NatsRequester's. The api, the lab, the benchmarks and every test
 * talk to services through this class; none keeps its own list of
 * operations or types.
 */
import type { CommandInput, CommandName, CommandReply, Contract, Operation, QueryInput, QueryName, QueryReply } from '@strata/contracts';
import { ErrorCode, StrataError } from '@strata/errors';
import type { RequestMeta } from './messaging.js';
import type { NatsRequester, RequesterOptions } from './requester.js';

/**
 * Read-your-writes across services: the highest stream sequence any command
 * reply reported, whichever service answered (one log, one sequence, so one
 * position is shared by the clients of every service). Requests carry it as
 * `minSeq`, so a caller that just wrote something finds it even if the
 * answering projection lags, also through another service (a port IPAM just
 * created, asked of secgroup).
 */
export class ReadYourWrites {
  private highest = 0;

  observe(seq: number | undefined): void {
    if (seq !== undefined && seq > this.highest) this.highest = seq;
  }

  /** undefined until a command has reported a sequence. */
  minSeq(): number | undefined {
    return this.highest > 0 ? this.highest : undefined;
  }
}

export interface ContractClientOptions {
  /**
   * Check every reply against the contract's reply schema and answer
   * INTERNAL naming the fields when it does not match (the lab and the tests
   * do; the api trusts its services and does not spend the time).
   */
  checkReplies: boolean;
}

export class ContractClient<C extends Contract> {
  private readonly options: ContractClientOptions;

  constructor(
    readonly contract: C,
    private readonly requester: Pick<NatsRequester, 'request'>,
    /** Shared with the clients of the other services (see ReadYourWrites). */
    readonly position: ReadYourWrites = new ReadYourWrites(),
    options: Partial<ContractClientOptions> = {},
  ) {
    this.options = { checkReplies: false, ...options };
  }

  /** Commands, too, decide against what the caller has already seen (e.g. set-groups right after port create). */
  async command<K extends CommandName<C>>(op: K, body: CommandInput<C, K>, meta: RequestMeta, options?: Partial<RequesterOptions>): Promise<CommandReply<C, K>> {
    const operation = this.contract.commands[op]!;
    const reply = await this.requester.request<CommandReply<C, K>>(operation.subject, body, this.withMinSeq(meta), options);
    this.position.observe(reply.seq);
    return this.checked(operation, reply.result);
  }

  async query<K extends QueryName<C>>(op: K, body: QueryInput<C, K>, meta: RequestMeta, options?: Partial<RequesterOptions>): Promise<QueryReply<C, K>> {
    const operation = this.contract.queries[op]!;
    const reply = await this.requester.request<QueryReply<C, K>>(operation.subject, body, this.withMinSeq(meta), options);
    return this.checked(operation, reply.result);
  }

  /** The reply as the service sent it (parsing would also drop fields the schema does not name), once it matches the schema. */
  private checked<T>(operation: Operation, result: T): T {
    if (!this.options.checkReplies) return result;
    const parsed = operation.reply.safeParse(result);
    if (parsed.success) return result;
    const problems = parsed.error.issues.map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message)).join('; ');
    throw new StrataError(ErrorCode.Internal, `reply from ${operation.subject} does not match the ${this.contract.name} contract: ${problems}`, { subject: operation.subject });
  }

  /**
   * The caller's meta is never changed: the position is added to a copy. A
   * minSeq the caller set itself (a position its client wrote at, perhaps
   * through another api instance) is kept when it is the higher.
   */
  private withMinSeq(meta: RequestMeta): RequestMeta {
    const minSeq = this.position.minSeq();
    return minSeq === undefined || (meta.minSeq ?? 0) >= minSeq ? meta : { ...meta, minSeq };
  }
}
