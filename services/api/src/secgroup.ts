/** The security-group service's operations, typed by @strata/contracts, over NATS request/reply. */
import {
  commandSubject,
  querySubject,
  type SecgroupCommandInput,
  type SecgroupCommandName,
  type SecgroupQueryInput,
  type SecgroupQueryName,
  type SecgroupResults,
} from '@strata/contracts';
import type { NatsRequester, RequestMeta } from '@strata/runtime';
import type { ReadYourWrites } from './context.js';

const SERVICE = 'secgroup';

/**
 * Shares the API's one ReadYourWrites with IpamClient: stream sequences are
 * global across services, so a secgroup write raises the minSeq of later
 * IPAM queries and an IPAM write (a new port) that of secgroup queries.
 */
export class SecgroupClient {
  constructor(
    private readonly requester: NatsRequester,
    private readonly ryw: ReadYourWrites,
  ) {}

  async command<K extends SecgroupCommandName>(op: K, body: SecgroupCommandInput<K>, meta: RequestMeta): Promise<SecgroupResults[K]> {
    // Commands decide against what the caller has already seen, too (e.g. set-groups right after port create).
    const reply = await this.requester.request<SecgroupResults[K]>(commandSubject(SERVICE, op), body, this.withMinSeq(meta));
    this.ryw.observe(reply.seq);
    return reply.result;
  }

  async query<K extends SecgroupQueryName>(op: K, body: SecgroupQueryInput<K>, meta: RequestMeta): Promise<SecgroupResults[K]> {
    const withSeq = this.withMinSeq(meta);
    return (await this.requester.request<SecgroupResults[K]>(querySubject(SERVICE, op), body, withSeq)).result;
  }

  private withMinSeq(meta: RequestMeta): RequestMeta {
    const minSeq = this.ryw.minSeq();
    return minSeq === undefined ? meta : { ...meta, minSeq };
  }
}
