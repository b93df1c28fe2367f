/**
 * The one typed client of a service contract (defineContract in
 * @strata/contracts): `command`/`query` take an operation name of the
 * contract and its request as callers write it, and answer with the reply
 * type the contract declares. Signing, the reply inbox and the error mapping
 * are the NatsRequester's. The api, the lab, the benchmarks and every test
 * talk to services through this class; none keeps its own list of
 * operations or types.
 */
import type { CommandInput, CommandName, CommandReply, Contract, QueryInput, QueryName, QueryReply } from '@strata/contracts';
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

export class ContractClient<C extends Contract> {
  constructor(
    readonly contract: C,
    private readonly requester: Pick<NatsRequester, 'request'>,
    /** Shared with the clients of the other services (see ReadYourWrites). */
    readonly position: ReadYourWrites = new ReadYourWrites(),
  ) {}

  /** Commands, too, decide against what the caller has already seen (e.g. set-groups right after port create). */
  async command<K extends CommandName<C>>(op: K, body: CommandInput<C, K>, meta: RequestMeta, options?: Partial<RequesterOptions>): Promise<CommandReply<C, K>> {
    const reply = await this.requester.request<CommandReply<C, K>>(this.contract.commands[op]!.subject, body, this.withMinSeq(meta), options);
    this.position.observe(reply.seq);
    return reply.result;
  }

  async query<K extends QueryName<C>>(op: K, body: QueryInput<C, K>, meta: RequestMeta, options?: Partial<RequesterOptions>): Promise<QueryReply<C, K>> {
    return (await this.requester.request<QueryReply<C, K>>(this.contract.queries[op]!.subject, body, this.withMinSeq(meta), options)).result;
  }

  /** The caller's meta is never changed: the position is added to a copy. */
  private withMinSeq(meta: RequestMeta): RequestMeta {
    const minSeq = this.position.minSeq();
    return minSeq === undefined ? meta : { ...meta, minSeq };
  }
}
