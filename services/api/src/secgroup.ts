/** The security-group service's operations, typed by @strata/contracts, over NATS request/reply. */
import type { SecgroupCommandInput, SecgroupCommandName, SecgroupQueryInput, SecgroupQueryName, SecgroupResults } from '@strata/contracts';
import type { NatsRequester, RequestMeta } from '@strata/runtime';
import type { ReadYourWrites } from './context.js';
import { ServiceClient } from './service-client.js';

export class SecgroupClient extends ServiceClient {
  constructor(requester: NatsRequester, ryw: ReadYourWrites) {
    super('secgroup', requester, ryw);
  }

  command<K extends SecgroupCommandName>(op: K, body: SecgroupCommandInput<K>, meta: RequestMeta): Promise<SecgroupResults[K]> {
    return this.sendCommand(op, body, meta);
  }

  query<K extends SecgroupQueryName>(op: K, body: SecgroupQueryInput<K>, meta: RequestMeta): Promise<SecgroupResults[K]> {
    return this.sendQuery(op, body, meta);
  }
}
