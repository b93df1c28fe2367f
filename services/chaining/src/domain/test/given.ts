/**
 * Given/when/then for chaining deciders on the shared fixture of
 * @strata/service-kit/testing: IPAM's and secgroup's events as given,
 * chaining's commands, health reports and address-owner changes as when.
 */
import { randomUUID } from 'node:crypto';
import {
  chainingContract,
  chainingEvents,
  ipamEvents,
  networkAggregate,
  routerAggregate,
  secgroupEvents,
  securityGroupAggregate,
  type ChainingCommandInput,
  type ChainingCommandName,
} from '@strata/contracts';
import { admin, errorOf, EventFixture, type DeciderFor } from '@strata/service-kit/testing';
import { expect } from 'vitest';
import { activateNewGroup, settleActiveMember, decideAddressOwner, decideHealth, decideLegLost, deciders, type AddressOwner, type Append, type Caller, type Decision, type HealthReport, type NewChainingEvent } from '../decide/index.js';
import { applyStored } from '../evolve.js';
import { initialState, type ChainingState } from '../state.js';

export { admin, errorOf, tenantA, tenantB } from '@strata/service-kit/testing';

export const NETWORK = '00000000-0000-4000-8000-0000000000aa';
export const SUBNET4 = '00000000-0000-4000-8000-0000000000b4';
export const SUBNET6 = '00000000-0000-4000-8000-0000000000b6';
/** A subnet joined to no router. */
export const LONE_SUBNET = '00000000-0000-4000-8000-0000000000bf';

export class World extends EventFixture<ChainingState, NewChainingEvent> {
  private nextMac = 1;

  constructor() {
    super(initialState(), applyStored, chainingEvents);
  }

  decide<K extends ChainingCommandName>(name: K, input: ChainingCommandInput<K>, caller: Caller = admin): Decision {
    return this.decideWith(chainingContract.commands[name].request, deciders[name] as DeciderFor<ChainingState, NewChainingEvent>, input, caller);
  }

  run<K extends ChainingCommandName>(name: K, input: ChainingCommandInput<K>, caller: Caller = admin): Append {
    return this.runWith(chainingContract.commands[name].request, deciders[name] as DeciderFor<ChainingState, NewChainingEvent>, input, caller);
  }

  /** group.create as the handler runs it: the creation, then its `initial` activation step. */
  createGroup(input: ChainingCommandInput<'group.create'>, caller: Caller = admin): string {
    const id = this.run('group.create', input, caller).resourceId;
    this.settle(() => activateNewGroup(this.state, id));
    return id;
  }

  /** group.update as the handler runs it: the update (if anything changes), then its `settle` step; what it wrote. */
  updateGroup(input: ChainingCommandInput<'group.update'>, caller: Caller = admin): Append[] {
    const d = this.decide('group.update', input, caller);
    if (d.kind === 'append') this.apply(d);
    return [...(d.kind === 'append' ? [d] : []), ...this.settle(() => settleActiveMember(this.state, input.id))];
  }

  /** Given: IPAM created a port of `tenant`; addresses with a colon are on SUBNET6, others on SUBNET4 (or `subnet`). */
  port(tenant: string, ips: string[] = ['10.0.0.5'], hostId: string | null = 'hv1', subnet?: string): string {
    const portId = randomUUID();
    const mac = `02:53:54:00:00:${(this.nextMac++).toString(16).padStart(2, '0')}`;
    const fixedIps = ips.map((ip) => ({ subnetId: subnet ?? (ip.includes(':') ? SUBNET6 : SUBNET4), ip }));
    this.storeOf(ipamEvents, 'ipam.PortCreated', networkAggregate(NETWORK), { portId, name: '', mac, fixedIps, hostId, deviceId: '' }, tenant);
    return portId;
  }

  /** Given: a port created with allowed address pairs (`ipam.PortCreated`'s `allowedAddressPairs`). */
  portWithPairs(tenant: string, ip: string, pairs: string[]): string {
    const portId = randomUUID();
    const data = {
      portId,
      name: '',
      mac: `02:53:54:00:01:${(this.nextMac++).toString(16).padStart(2, '0')}`,
      fixedIps: [{ subnetId: SUBNET4, ip }],
      hostId: 'hv1',
      deviceId: '',
      allowedAddressPairs: pairs.map((ipAddress) => ({ ipAddress, macAddress: '02:53:54:00:aa:aa' })),
    };
    this.storeOf(ipamEvents, 'ipam.PortCreated', networkAggregate(NETWORK), data, tenant);
    return portId;
  }

  portBound(portId: string, hostId: string | null): void {
    const data = { portId, hostId, previousHostId: this.state.ports[portId]?.hostId ?? null };
    this.storeOf(ipamEvents, 'ipam.PortBound', networkAggregate(NETWORK), data, this.state.ports[portId]!.tenant);
  }

  /** Given: IPAM deleted the port. */
  portDeleted(portId: string): void {
    const port = this.state.ports[portId]!;
    this.storeOf(ipamEvents, 'ipam.PortDeleted', networkAggregate(NETWORK), { portId, releasedIps: port.fixedIps }, port.tenant);
  }

  /** Given: IPAM set the port's allowed address pairs (`ipam.PortAllowedAddressPairsSet`). */
  addressPairs(portId: string, ips: string[]): void {
    const data = { portId, allowedAddressPairs: ips.map((ipAddress) => ({ ipAddress, macAddress: '02:53:54:00:aa:aa' })) };
    this.storeOf(ipamEvents, 'ipam.PortAllowedAddressPairsSet', networkAggregate(NETWORK), data, this.state.ports[portId]!.tenant);
  }

  /** Given: a router of `tenant` joined to `subnets` (default: the v4 and v6 subnets). */
  router(tenant: string, subnets: string[] = [SUBNET4, SUBNET6]): string {
    const id = randomUUID();
    this.storeOf(ipamEvents, 'ipam.RouterCreated', routerAggregate(id), { routerId: id, name: 'r' }, tenant);
    for (const subnetId of subnets) this.storeOf(ipamEvents, 'ipam.RouterInterfaceAdded', routerAggregate(id), { routerId: id, subnetId, networkId: NETWORK }, tenant);
    return id;
  }

  securityGroup(tenant: string): string {
    const id = randomUUID();
    this.storeOf(secgroupEvents, 'secgroup.GroupCreated', securityGroupAggregate(id), { groupId: id, name: 'g', description: '', isDefault: false, rules: [] }, tenant);
    return id;
  }

  /** When: a health report arrives; what it wrote. */
  health = (r: HealthReport): Append[] => this.settle(() => decideHealth(this.state, r));
  /** When: IPAM records a new owner of an address; what the reactor wrote. */
  addressOwner = (o: AddressOwner): Append[] => this.settle(() => decideAddressOwner(this.state, o));
  /** When: the reactor handles IPAM's deletion or unbinding of the port (already given); what it wrote. */
  reactToLegLost = (portId: string): Append[] => this.settle(() => decideLegLost(this.state, portId));
}

/** The code, message and details of the error a command throws; it wrote nothing (the world's log did not grow). */
export function refused(w: World, fn: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  const before = w.events.length;
  const e = errorOf(fn);
  expect(w.events.length).toBe(before);
  return { code: e.code, message: e.message, details: e.details };
}
