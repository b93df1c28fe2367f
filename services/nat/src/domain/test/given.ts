/**
 * Given/when/then for nat deciders on the shared fixture of
 * @strata/service-kit/testing: IPAM's events (ports, floating IPs, routers)
 * as given, nat's commands and reactor steps as when.
 */
import { randomUUID } from 'node:crypto';
import {
  CLOUD_AGGREGATE,
  ipamEvents,
  natContract,
  natEvents,
  networkAggregate,
  routerAggregate,
  type NatCommandInput,
  type NatCommandName,
} from '@strata/contracts';
import { admin, EventFixture, type DeciderFor } from '@strata/service-kit/testing';
import { deciders, reactToFloatingIpReleased, reactToPortAddresses, reactToRouterDeleted, type Append, type Caller, type Decision, type NewNatEvent } from '../decide/index.js';
import { applyStored } from '../evolve.js';
import { initialState, type NatState } from '../state.js';

export { admin, errorOf, tenantA, tenantB } from '@strata/service-kit/testing';

export const NETWORK = '00000000-0000-4000-8000-0000000000aa';
const SUBNET = '00000000-0000-4000-8000-0000000000bb';
const POOL = '00000000-0000-4000-8000-0000000000cc';

export class World extends EventFixture<NatState, NewNatEvent> {
  private nextAddress = 10;

  constructor() {
    super(initialState(), applyStored, natEvents);
  }

  decide<K extends NatCommandName>(name: K, input: NatCommandInput<K>, caller: Caller = admin): Decision {
    return this.decideWith(natContract.commands[name].request, deciders[name] as DeciderFor<NatState, NewNatEvent>, input, caller);
  }

  run<K extends NatCommandName>(name: K, input: NatCommandInput<K>, caller: Caller = admin): Append {
    return this.runWith(natContract.commands[name].request, deciders[name] as DeciderFor<NatState, NewNatEvent>, input, caller);
  }

  /** Given: IPAM created a port of `tenant` with these fixed IPs. */
  port(tenant: string, ips: string[] = ['10.0.0.5'], hostId: string | null = 'hv1', portId: string = randomUUID()): string {
    const data = { portId, name: '', mac: '02:53:54:00:00:01', fixedIps: ips.map((ip) => ({ subnetId: SUBNET, ip })), hostId, deviceId: '' };
    this.storeOf(ipamEvents, 'ipam.PortCreated', networkAggregate(NETWORK), data, tenant);
    return portId;
  }

  portBound(portId: string, hostId: string | null): void {
    const data = { portId, hostId, previousHostId: this.state.ports[portId]?.hostId ?? null };
    this.storeOf(ipamEvents, 'ipam.PortBound', networkAggregate(NETWORK), data, this.state.ports[portId]!.tenant);
  }

  /** Given: IPAM changed the port's fixed IPs to `ips` (`ipam.PortUpdated`). */
  portAddressesChanged(portId: string, ips: string[]): void {
    const p = this.state.ports[portId]!;
    const before = p.fixedIps.map((f) => ({ subnetId: f.subnetId, ip: f.ip }));
    const after = ips.map((ip) => ({ subnetId: SUBNET, ip }));
    const fixedIps = { before, after, released: before.filter((f) => !ips.includes(f.ip)), allocated: after.filter((f) => !before.some((b) => b.ip === f.ip)) };
    this.storeOf(ipamEvents, 'ipam.PortUpdated', networkAggregate(NETWORK), { portId, fixedIps }, p.tenant);
  }

  portDeleted(portId: string): void {
    this.storeOf(ipamEvents, 'ipam.PortDeleted', networkAggregate(NETWORK), { portId, releasedIps: [] }, this.state.ports[portId]!.tenant);
  }

  /** Given: IPAM allocated a floating IP to `tenant` (the envelope's tenant, as IPAM writes it). */
  floatingIp(tenant: string, id: string = randomUUID()): string {
    this.storeOf(ipamEvents, 'ipam.FloatingIpAllocated', CLOUD_AGGREGATE, { floatingIpId: id, poolId: POOL, address: `203.0.113.${this.nextAddress++}` }, tenant);
    return id;
  }

  floatingIpReleased(id: string): void {
    const f = this.state.floatingIps[id]!;
    this.storeOf(ipamEvents, 'ipam.FloatingIpReleased', CLOUD_AGGREGATE, { floatingIpId: id, address: f.address }, f.tenant);
  }

  /** Given: an operator created a pool (IPAM's cloud aggregate). */
  pool(purpose: 'floating-ip' | 'host-ip', id: string = randomUUID()): string {
    this.storeOf(ipamEvents, 'ipam.PoolCreated', CLOUD_AGGREGATE, { poolId: id, name: `${purpose}-pool`, cidr: '192.0.2.0/24', purpose }, 'ops');
    return id;
  }

  router(tenant: string, id: string = randomUUID()): string {
    this.storeOf(ipamEvents, 'ipam.RouterCreated', routerAggregate(id), { routerId: id, name: 'r' }, tenant);
    return id;
  }

  routerDeleted(id: string): void {
    this.storeOf(ipamEvents, 'ipam.RouterDeleted', routerAggregate(id), { routerId: id }, this.state.routers[id]!.tenant);
  }

  /** When: the reactor handles IPAM's event; what it wrote. */
  reactPortDeleted = (portId: string): Append[] => this.settle(() => reactToPortAddresses(this.state, portId));
  reactPortUpdated = (portId: string): Append[] => this.settle(() => reactToPortAddresses(this.state, portId));
  reactReleased = (fipId: string): Append[] => this.settle(() => reactToFloatingIpReleased(this.state, fipId));
  reactRouterDeleted = (routerId: string): Append[] => this.settle(() => reactToRouterDeleted(this.state, routerId));
}
