/**
 * Request/reply to one service with the API's read-your-writes position: the
 * plumbing IpamClient and SecgroupClient share. Sequences are global across
 * services, so one ReadYourWrites serves every client: a write in one service
 * raises the minSeq of later requests to all of them.
 */
import { commandSubject, querySubject } from '@strata/contracts';
import type { NatsRequester, RequestMeta } from '@strata/runtime';
import type { ReadYourWrites } from './context.js';

export abstract class ServiceClient {
  constructor(
    private readonly service: string,
    private readonly requester: NatsRequester,
    private readonly ryw: ReadYourWrites,
  ) {}

  /** Commands, too, decide against what the caller has already seen (e.g. set-groups right after port create). */
  protected async sendCommand<T>(op: string, body: unknown, meta: RequestMeta): Promise<T> {
    const reply = await this.requester.request<T>(commandSubject(this.service, op), body, this.withMinSeq(meta));
    this.ryw.observe(reply.seq);
    return reply.result;
  }

  protected async sendQuery<T>(op: string, body: unknown, meta: RequestMeta): Promise<T> {
    return (await this.requester.request<T>(querySubject(this.service, op), body, this.withMinSeq(meta))).result;
  }

  private withMinSeq(meta: RequestMeta): RequestMeta {
    const minSeq = this.ryw.minSeq();
    return minSeq === undefined ? meta : { ...meta, minSeq };
  }
}

/** A service contract as types: each operation's request (as callers write it) and result. */
export interface ContractTypes {
  commands: object;
  queries: object;
  results: object;
}

/** A typed client of one service's contract; a new service needs only its type map and name. */
export class ContractClient<T extends ContractTypes> extends ServiceClient {
  command<K extends keyof T['commands'] & keyof T['results'] & string>(op: K, body: T['commands'][K], meta: RequestMeta): Promise<T['results'][K]> {
    return this.sendCommand(op, body, meta);
  }

  query<K extends keyof T['queries'] & keyof T['results'] & string>(op: K, body: T['queries'][K], meta: RequestMeta): Promise<T['results'][K]> {
    return this.sendQuery(op, body, meta);
  }
}
