/**
 * Given/when/then for secgroup deciders: given these events (applied with the
 * real fold, IPAM's port events included), when this command, then this
 * event or this error. Requests are parsed with the contract's schema, and a
 * schema rejection becomes the same INVALID_ARGUMENT the service answers.
 */
import { randomUUID } from 'node:crypto';
import {
  ipamEvents,
  networkAggregate,
  secgroupCommands,
  secgroupEvents,
  type SecgroupCommandInput,
  type SecgroupCommandName,
} from '@strata/contracts';
import type { StoredEvent } from '@strata/eventlog';
import { toValidationError } from '@strata/runtime';
import { deciders, reactToPortCreated, reactToPortDeleted, type Append, type Caller, type Decision } from '../decide/index.js';
import { applyStored } from '../evolve.js';
import { initialState, type SecgroupState } from '../state.js';

const AT = '2026-01-01T00:00:00.000Z';
export const admin: Caller = { actor: 'admin', tenant: 'ops', admin: true, requestId: '', at: AT };
export const tenantA: Caller = { actor: 'alice', tenant: 'tenant-a', admin: false, requestId: '', at: AT };
export const tenantB: Caller = { actor: 'bob', tenant: 'tenant-b', admin: false, requestId: '', at: AT };

const NETWORK = '00000000-0000-4000-8000-0000000000aa';

export class World {
  state: SecgroupState = initialState();
  private seq = 0;
  events: StoredEvent[] = [];

  decide<K extends SecgroupCommandName>(name: K, input: SecgroupCommandInput<K>, caller: Caller = admin, requestId: string = randomUUID()): Decision {
    const parsed = secgroupCommands[name].safeParse(input);
    if (!parsed.success) throw toValidationError(parsed.error);
    const decide = deciders[name] as (s: SecgroupState, c: unknown, ctx: { caller: Caller }) => Decision;
    return decide(this.state, parsed.data, { caller: { ...caller, requestId } });
  }

  /** Decide and apply; returns the appended event (or throws the decider's error). */
  run<K extends SecgroupCommandName>(name: K, input: SecgroupCommandInput<K>, caller: Caller = admin, requestId?: string): Append {
    const d = this.decide(name, input, caller, requestId);
    if (d.kind !== 'append') throw new Error(`expected an event from ${name}, got no-op`);
    this.apply(d);
    return d;
  }

  apply(d: Append): void {
    const { version, data } = secgroupEvents.encode(d.event.type, d.event.data);
    this.store({ type: d.event.type, version, aggregate: d.aggregate, data, tenant: d.tenant });
  }

  /** Given: IPAM created a port of `tenant`. */
  ipamPortCreated(tenant: string, portId: string = randomUUID()): string {
    const data = { portId, name: '', mac: '02:53:54:00:00:01', fixedIps: [{ subnetId: NETWORK, ip: '10.0.0.5' }], hostId: null, deviceId: '' };
    this.store({ type: 'ipam.PortCreated', version: 1, aggregate: networkAggregate(NETWORK), data: ipamEvents.encode('ipam.PortCreated', data).data, tenant });
    return portId;
  }

  /** Given: IPAM deleted the port. */
  ipamPortDeleted(portId: string): void {
    const tenant = this.state.ports[portId]?.tenant ?? 'tenant-a';
    this.store({ type: 'ipam.PortDeleted', version: 1, aggregate: networkAggregate(NETWORK), data: { portId, releasedIps: [] }, tenant });
  }

  /** When: the port reactor handles PortCreated; returns what it wrote. */
  reactCreated(portId: string): Append[] {
    return this.settle(() => reactToPortCreated(this.state, portId));
  }

  reactDeleted(portId: string, tenant = 'tenant-a'): Append[] {
    return this.settle(() => reactToPortDeleted(this.state, portId, tenant));
  }

  private settle(decide: () => Decision): Append[] {
    const written: Append[] = [];
    for (let d = decide(); d.kind === 'append'; d = decide()) {
      if (written.length > 5) throw new Error('reactor does not settle');
      this.apply(d);
      written.push(d);
    }
    return written;
  }

  private store(e: Pick<StoredEvent, 'type' | 'version' | 'aggregate' | 'data' | 'tenant'>): void {
    const event: StoredEvent = {
      id: randomUUID(),
      ...e,
      actor: 'test',
      occurredAt: AT,
      correlationId: 'c',
      causationId: null,
      seq: ++this.seq,
      subject: `strata.evt.${e.aggregate.context}.${e.aggregate.type}.${e.aggregate.id}`,
      storedAt: AT,
    };
    this.events.push(event);
    applyStored(this.state, event);
  }
}
