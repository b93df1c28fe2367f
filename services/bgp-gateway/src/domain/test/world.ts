/** Given/when/then for the gateway's deciders on the shared fixture of @strata/service-kit/testing: IPAM's and NAT's events as given, the gateway's commands as when. */
import { bgpContract, bgpEvents, type BgpCommandInput, type BgpCommandName } from '@strata/contracts';
import { admin, EventFixture, type DeciderFor } from '@strata/service-kit/testing';
import { deciders, type Append, type Caller, type Decision, type NewBgpEvent } from '../decide/index.js';
import { applyStored } from '../evolve.js';
import { initialState, type BgpState } from '../state.js';

export class World extends EventFixture<BgpState, NewBgpEvent> {
  constructor() {
    super(initialState(), applyStored, bgpEvents);
  }
  decide<K extends BgpCommandName>(name: K, input: BgpCommandInput<K>, caller: Caller = admin, requestId?: string): Decision {
    return this.decideWith(bgpContract.commands[name].request, deciders[name] as DeciderFor<BgpState, NewBgpEvent>, input, caller, requestId);
  }
  run<K extends BgpCommandName>(name: K, input: BgpCommandInput<K>, caller: Caller = admin): Append {
    return this.runWith(bgpContract.commands[name].request, deciders[name] as DeciderFor<BgpState, NewBgpEvent>, input, caller);
  }
}
