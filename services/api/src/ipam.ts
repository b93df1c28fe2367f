/** IPAM's operations, typed by @strata/contracts, over NATS request/reply. */
import {
  commandSubject,
  querySubject,
  type IpamCommandInput,
  type IpamCommandName,
  type IpamQueryInput,
  type IpamQueryName,
  type IpamResults,
} from '@strata/contracts';
import type { NatsRequester, RequestMeta } from '@strata/runtime';
import type { ReadYourWrites } from './context.js';

const SERVICE = 'ipam';

export class IpamClient {
  constructor(
    private readonly requester: NatsRequester,
    private readonly ryw: ReadYourWrites,
  ) {}

  async command<K extends IpamCommandName>(op: K, body: IpamCommandInput<K>, meta: RequestMeta): Promise<IpamResults[K]> {
    // Commands decide against what the caller has already seen, too (e.g. set-groups right after port create).
    const reply = await this.requester.request<IpamResults[K]>(commandSubject(SERVICE, op), body, this.withMinSeq(meta));
    this.ryw.observe(reply.seq);
    return reply.result;
  }

  async query<K extends IpamQueryName>(op: K, body: IpamQueryInput<K>, meta: RequestMeta): Promise<IpamResults[K]> {
    const withSeq = this.withMinSeq(meta);
    return (await this.requester.request<IpamResults[K]>(querySubject(SERVICE, op), body, withSeq)).result;
  }

  private withMinSeq(meta: RequestMeta): RequestMeta {
    const minSeq = this.ryw.minSeq();
    return minSeq === undefined ? meta : { ...meta, minSeq };
  }
}
