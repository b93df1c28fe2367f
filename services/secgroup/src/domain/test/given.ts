/**
 * Given/when/then for secgroup deciders, on the shared fixture of
 * @strata/service-kit/testing: given these events (applied with the real
 * fold, IPAM's port events included), when this command, then this event or
 * this error. Requests are parsed with the contract's schema, and a schema
 * rejection becomes the same INVALID_ARGUMENT the service answers.
 */
import { randomUUID } from 'node:crypto';
import {
  ipamEvents,
  networkAggregate,
  secgroupContract,
  secgroupEvents,
  type SecgroupCommandInput,
  type SecgroupCommandName,
} from '@strata/contracts';
import { admin, EventFixture, type DeciderFor } from '@strata/service-kit/testing';
import { deciders, reactToPortCreated, reactToPortDeleted, type Append, type Decision, type NewSecgroupEvent } from '../decide/index.js';
import type { Caller } from '../decide/index.js';
import { applyStored } from '../evolve.js';
import { initialState, type SecgroupState } from '../state.js';

export { admin, tenantA, tenantB } from '@strata/service-kit/testing';

const NETWORK = '00000000-0000-4000-8000-0000000000aa';

export class World extends EventFixture<SecgroupState, NewSecgroupEvent> {
  constructor() {
    super(initialState(), applyStored, secgroupEvents);
  }

  decide<K extends SecgroupCommandName>(name: K, input: SecgroupCommandInput<K>, caller: Caller = admin, requestId?: string): Decision {
    return this.decideWith(secgroupContract.commands[name].request, deciders[name] as DeciderFor<SecgroupState, NewSecgroupEvent>, input, caller, requestId);
  }

  run<K extends SecgroupCommandName>(name: K, input: SecgroupCommandInput<K>, caller: Caller = admin, requestId?: string): Append {
    return this.runWith(secgroupContract.commands[name].request, deciders[name] as DeciderFor<SecgroupState, NewSecgroupEvent>, input, caller, requestId);
  }

  /** Given: IPAM created a port of `tenant`. */
  ipamPortCreated(tenant: string, portId: string = randomUUID()): string {
    const data = { portId, name: '', mac: '02:53:54:00:00:01', fixedIps: [{ subnetId: NETWORK, ip: '10.0.0.5' }], hostId: null, deviceId: '' };
    this.storeOf(ipamEvents, 'ipam.PortCreated', networkAggregate(NETWORK), data, tenant);
    return portId;
  }

  /** Given: IPAM deleted the port. */
  ipamPortDeleted(portId: string): void {
    const tenant = this.state.ports[portId]?.tenant ?? 'tenant-a';
    this.storeOf(ipamEvents, 'ipam.PortDeleted', networkAggregate(NETWORK), { portId, releasedIps: [] }, tenant);
  }

  /** When: the port reactor handles PortCreated; returns what it wrote. */
  reactCreated(portId: string): Append[] {
    return this.settle(() => reactToPortCreated(this.state, portId));
  }

  reactDeleted(portId: string, tenant = 'tenant-a'): Append[] {
    return this.settle(() => reactToPortDeleted(this.state, portId, tenant));
  }
}
