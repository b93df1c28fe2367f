/** IPAM's operations, typed by @strata/contracts, over NATS request/reply. */
import type { IpamCommandInput, IpamCommandName, IpamQueryInput, IpamQueryName, IpamResults } from '@strata/contracts';
import type { NatsRequester, RequestMeta } from '@strata/runtime';
import type { ReadYourWrites } from './context.js';
import { ServiceClient } from './service-client.js';

export class IpamClient extends ServiceClient {
  constructor(requester: NatsRequester, ryw: ReadYourWrites) {
    super('ipam', requester, ryw);
  }

  command<K extends IpamCommandName>(op: K, body: IpamCommandInput<K>, meta: RequestMeta): Promise<IpamResults[K]> {
    return this.sendCommand(op, body, meta);
  }

  query<K extends IpamQueryName>(op: K, body: IpamQueryInput<K>, meta: RequestMeta): Promise<IpamResults[K]> {
    return this.sendQuery(op, body, meta);
  }
}
