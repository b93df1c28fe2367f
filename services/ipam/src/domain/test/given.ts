/**
 * Given/when/then for IPAM deciders: given these events (applied with the
 * real evolve), when this command, then this event or this error.
 */
import { randomUUID } from 'node:crypto';
import type { StrataError } from '@strata/errors';
import { ipamContract, ipamEvents, type IpamCommandName, type IpamCommandInput } from '@strata/contracts';
import type { StoredEvent } from '@strata/eventlog';
import { deciders, type Append, type Caller, type Decision } from '../decide/index.js';
import { evolve } from '../evolve.js';
import { defaultPolicy, type IpamPolicy } from '../policy.js';
import { initialState, type IpamState } from '../state.js';

export const admin: Caller = { actor: 'admin', tenant: 'ops', admin: true, requestId: '', at: '2026-01-01T00:00:00.000Z' };
export const tenantA: Caller = { actor: 'alice', tenant: 'tenant-a', admin: false, requestId: '', at: '2026-01-01T00:00:00.000Z' };
export const tenantB: Caller = { actor: 'bob', tenant: 'tenant-b', admin: false, requestId: '', at: '2026-01-01T00:00:00.000Z' };

/** A world to run commands against: each successful command's event is applied, like the service does. */
export class World {
  state: IpamState = initialState();
  private seq = 0;
  events: StoredEvent[] = [];

  constructor(readonly policy: IpamPolicy = defaultPolicy) {}

  decide<K extends IpamCommandName>(name: K, input: IpamCommandInput<K>, caller: Caller = admin, requestId: string = randomUUID()): Decision {
    const cmd = ipamContract.commands[name].request.parse(input);
    const decide = deciders[name] as (s: IpamState, c: unknown, ctx: { caller: Caller; policy: IpamPolicy }) => Decision;
    return decide(this.state, cmd, { caller: { ...caller, requestId }, policy: this.policy });
  }

  /** Decide and apply; returns the appended event (or throws the decider's error). */
  run<K extends IpamCommandName>(name: K, input: IpamCommandInput<K>, caller: Caller = admin, requestId?: string): Append {
    const d = this.decide(name, input, caller, requestId);
    if (d.kind !== 'append') throw new Error(`expected an event from ${name}, got no-op`);
    this.apply(d);
    return d;
  }

  apply(d: Append): void {
    const { version, data } = ipamEvents.encode(d.event.type, d.event.data);
    const event: StoredEvent = {
      id: randomUUID(),
      type: d.event.type,
      version,
      aggregate: d.aggregate,
      data,
      tenant: d.tenant,
      actor: 'test',
      occurredAt: admin.at,
      correlationId: 'c',
      causationId: null,
      seq: ++this.seq,
      subject: `strata.evt.${d.aggregate.context}.${d.aggregate.type}.${d.aggregate.id}`,
      storedAt: admin.at,
    };
    this.events.push(event);
    evolve(this.state, ipamEvents.decode(event));
  }

  /** A network with one IPv4 subnet, owned by `caller`'s tenant. */
  networkWithSubnet(cidr = '10.0.0.0/24', caller: Caller = tenantA): { networkId: string; subnetId: string } {
    const networkId = this.run('network.create', { name: 'net' }, caller).resourceId;
    const subnetId = this.run('subnet.create', { networkId, cidr }, caller).resourceId;
    return { networkId, subnetId };
  }
}

/** What a decision throws, as `CODE: message` ('no error' when it does not): the refusal a client would see. */
export function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as StrataError).code}: ${(e as StrataError).message}`;
  }
  return 'no error';
}
