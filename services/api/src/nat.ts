/** The NAT service's operations, typed by @strata/contracts, over NATS request/reply. */
import type { NatCommandInput, NatCommandName, NatQueryInput, NatQueryName, NatResults } from '@strata/contracts';
import type { NatsRequester } from '@strata/runtime';
import type { ReadYourWrites } from './context.js';
import { ContractClient } from './service-client.js';

interface NatContract {
  commands: { [K in NatCommandName]: NatCommandInput<K> };
  queries: { [K in NatQueryName]: NatQueryInput<K> };
  results: NatResults;
}

export class NatClient extends ContractClient<NatContract> {
  constructor(requester: NatsRequester, ryw: ReadYourWrites) {
    super('nat', requester, ryw);
  }
}
