/** Given/when/then for the status domain: IPAM's, secgroup's and chaining's events as given; agents as plain values. */
import { randomUUID } from 'node:crypto';
import { chainAggregate, CLOUD_AGGREGATE, chainingEvents, ipamEvents, networkAggregate, routerAggregate, secgroupEvents, securityGroupAggregate, statusEvents } from '@strata/contracts';
import { EventFixture } from '@strata/service-kit/testing';
import type { AgentState } from '../agents.js';
import { applyStored } from '../evolve.js';
import type { NewStatusEvent } from '../liveness.js';
import { initialState, type StatusState } from '../state.js';

export { admin, errorOf, tenantA, tenantB } from '@strata/service-kit/testing';

export const NETWORK = '00000000-0000-4000-8000-0000000000aa';

export class World extends EventFixture<StatusState, NewStatusEvent> {
  constructor() {
    super(initialState(), applyStored, statusEvents);
  }

  hypervisor(hostId: string): void {
    this.storeOf(ipamEvents, 'ipam.HypervisorRegistered', CLOUD_AGGREGATE, { hostId, vtepIp: '198.18.0.11', publicIp: '198.51.100.1', hostPoolId: 'pool' }, '_system');
  }

  deregister(hostId: string): void {
    this.storeOf(ipamEvents, 'ipam.HypervisorDeregistered', CLOUD_AGGREGATE, { hostId, publicIp: '198.51.100.1' }, '_system');
  }

  network(tenant: string, networkId: string = randomUUID()): string {
    this.storeOf(ipamEvents, 'ipam.NetworkCreated', CLOUD_AGGREGATE, { networkId, name: '', vni: 100, mtu: 1450, routed: false }, tenant);
    return networkId;
  }

  port(tenant: string, hostId: string | null = 'hv1', portId: string = randomUUID()): string {
    this.storeOf(ipamEvents, 'ipam.PortCreated', networkAggregate(NETWORK), { portId, name: '', mac: '02:00:00:00:00:01', fixedIps: [], hostId, deviceId: '' }, tenant);
    return portId;
  }

  bind(portId: string, hostId: string | null, previousHostId: string | null = null): void {
    this.storeOf(ipamEvents, 'ipam.PortBound', networkAggregate(NETWORK), { portId, hostId, previousHostId }, this.state.ports[portId]!.tenant);
  }

  router(tenant: string): string {
    const routerId = randomUUID();
    this.storeOf(ipamEvents, 'ipam.RouterCreated', routerAggregate(routerId), { routerId, name: '' }, tenant);
    return routerId;
  }

  group(tenant: string): string {
    const groupId = randomUUID();
    this.storeOf(secgroupEvents, 'secgroup.GroupCreated', securityGroupAggregate(groupId), { groupId, name: 'g', description: '', isDefault: false, rules: [] }, tenant);
    return groupId;
  }

  chain(tenant: string): string {
    const chainId = randomUUID();
    this.storeOf(chainingEvents, 'chaining.ChainCreated', chainAggregate(chainId), { chainId, name: '', routerId: randomUUID(), groupIds: [], classifierIds: [], symmetric: false }, tenant);
    return chainId;
  }
}

/** An agent as the derivations read it: alive, registered, heard, with these overrides. */
export function agent(hostId: string, o: Partial<Omit<AgentState, 'hostId' | 'ports'>> & { ports?: Record<string, ['up' | 'down' | 'error', string?]> | undefined } = {}): AgentState {
  const { ports, ...rest } = o;
  return {
    hostId,
    registered: true,
    alive: true,
    since: null,
    heard: true,
    appliedPosition: 100,
    error: null,
    ports: ports && new Map(Object.entries(ports).map(([portId, [state, reason]]) => [portId, { portId, state, reason: reason ?? '' }])),
    ...rest,
  };
}

/** `agentOf` over a list of agents (an unknown host: registered, never heard). */
export const agents =
  (...list: AgentState[]) =>
  (hostId: string): AgentState =>
    list.find((a) => a.hostId === hostId) ?? agent(hostId, { heard: false, appliedPosition: null });
