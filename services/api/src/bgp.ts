/** The BGP gateway's operations, typed by @strata/contracts, over NATS request/reply. */
import type { BgpCommandInput, BgpCommandName, BgpQueryInput, BgpQueryName, BgpResults } from '@strata/contracts';
import type { NatsRequester } from '@strata/runtime';
import type { ReadYourWrites } from './context.js';
import { ContractClient } from './service-client.js';

interface BgpContract {
  commands: { [K in BgpCommandName]: BgpCommandInput<K> };
  queries: { [K in BgpQueryName]: BgpQueryInput<K> };
  results: BgpResults;
}

export class BgpClient extends ContractClient<BgpContract> {
  constructor(requester: NatsRequester, ryw: ReadYourWrites) {
    super('bgp', requester, ryw);
  }
}
