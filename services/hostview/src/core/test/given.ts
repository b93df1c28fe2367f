/**
 * Test support: IPAM, secgroup and chaining events as the model reads them, built one
 * call per event, and the full-recompute oracle over every host.
 */
import {
  bgpPhysicalAggregate,
  CLOUD_AGGREGATE,
  networkAggregate,
  type ZoneMac,
  type PhysicalVtep,
  portSecurityAggregate,
  routerAggregate,
  securityGroupAggregate,
  chainAggregate,
  flowClassifierAggregate,
  functionGroupAggregate,
  serviceFunctionAggregate,
  type FlowClassifier,
  type GroupFallback,
  type GroupSelection,
  type HealthCheck,
  type SecurityGroupRule,
} from '@strata/contracts';
import { deriveHost, type HostKeys } from '../derive.js';
import { applyEvent, emptyModel, type Model, type ModelEvent } from '../model.js';

type EventType = ModelEvent['type'];
type DataOf<K extends EventType> = Extract<ModelEvent, { type: K }>['data'];
type Aggregate = ModelEvent['aggregate'];

/** A rule with every field but the protocol, ports and peer defaulted: `rule('r1', 'ingress', 'tcp', 443, 443, {remoteGroupId: 'web'})`. */
export function rule(
  id: string,
  direction: SecurityGroupRule['direction'],
  protocol: SecurityGroupRule['protocol'],
  portMin: number | null = null,
  portMax: number | null = portMin,
  peer: { remoteGroupId?: string; remoteCidr?: string } = {},
  ethertype: SecurityGroupRule['ethertype'] = 'IPv4',
): SecurityGroupRule {
  return {
    id,
    direction,
    ethertype,
    protocol,
    portMin,
    portMax,
    icmpType: null,
    icmpCode: null,
    remoteGroupId: peer.remoteGroupId ?? null,
    remoteCidr: peer.remoteCidr ?? null,
  };
}

export const SYSTEM = '_system';

/** An event log under construction. */
export class Given {
  readonly events: ModelEvent[] = [];
  private seq = 0;

  emit<K extends EventType>(type: K, data: DataOf<K>, aggregate: Aggregate, tenant: string): ModelEvent {
    const event = { type, data, aggregate, tenant, seq: ++this.seq } as ModelEvent;
    this.events.push(event);
    return event;
  }

  host(hostId: string, vtepIp: string, publicIp = '203.0.113.1'): ModelEvent {
    return this.emit('ipam.HypervisorRegistered', { hostId, vtepIp, publicIp, hostPoolId: 'pool' }, CLOUD_AGGREGATE, SYSTEM);
  }

  deregister(hostId: string): ModelEvent {
    return this.emit('ipam.HypervisorDeregistered', { hostId, publicIp: '203.0.113.1' }, CLOUD_AGGREGATE, SYSTEM);
  }

  network(networkId: string, tenant: string, vni: number, mtu = 1450): ModelEvent {
    return this.emit('ipam.NetworkCreated', { networkId, name: networkId, vni, mtu, routed: false }, CLOUD_AGGREGATE, tenant);
  }

  deleteNetwork(networkId: string, tenant: string, vni: number): ModelEvent[] {
    return [
      this.emit('ipam.NetworkClosed', { networkId }, networkAggregate(networkId), tenant),
      this.emit('ipam.NetworkDeleted', { networkId, vni }, CLOUD_AGGREGATE, tenant),
    ];
  }

  subnet(
    networkId: string,
    subnetId: string,
    cidr: string,
    gatewayIp: string | null,
    tenant: string,
    enableDhcp = true,
    options: Pick<DataOf<'ipam.SubnetCreated'>, 'dnsNameservers' | 'hostRoutes'> = {},
  ): ModelEvent {
    const ipVersion = cidr.includes(':') ? 6 : 4;
    const lists = { ...(options.dnsNameservers?.length ? { dnsNameservers: options.dnsNameservers } : {}), ...(options.hostRoutes?.length ? { hostRoutes: options.hostRoutes } : {}) };
    return this.emit(
      'ipam.SubnetCreated',
      { subnetId, name: subnetId, ipVersion, cidr, gatewayIp, allocationPools: [], enableDhcp, ...lists },
      networkAggregate(networkId),
      tenant,
    );
  }

  /** `subnet.update`: only the fields given. */
  updateSubnet(networkId: string, subnetId: string, fields: Omit<DataOf<'ipam.SubnetUpdated'>, 'subnetId'>, tenant: string): ModelEvent {
    return this.emit('ipam.SubnetUpdated', { subnetId, ...fields }, networkAggregate(networkId), tenant);
  }

  deleteSubnet(networkId: string, subnetId: string, tenant: string): ModelEvent {
    return this.emit('ipam.SubnetDeleted', { subnetId }, networkAggregate(networkId), tenant);
  }

  port(
    networkId: string,
    portId: string,
    hostId: string | null,
    mac: string,
    fixedIps: { subnetId: string; ip: string }[],
    tenant: string,
    adminStateUp = true,
  ): ModelEvent {
    const admin = adminStateUp ? {} : { adminStateUp: false };
    return this.emit('ipam.PortCreated', { portId, name: portId, mac, fixedIps, hostId, deviceId: `vm-${portId}`, ...admin }, networkAggregate(networkId), tenant);
  }

  /** `port.update`: only the fields given; `fixedIps` is the new list (IPAM records the old one and what moved beside it). */
  updatePort(
    networkId: string,
    portId: string,
    fields: Omit<DataOf<'ipam.PortUpdated'>, 'portId' | 'fixedIps'> & { fixedIps?: { before: { subnetId: string; ip: string }[]; after: { subnetId: string; ip: string }[] } },
    tenant: string,
  ): ModelEvent {
    const { fixedIps, ...rest } = fields;
    const moved = fixedIps && {
      fixedIps: {
        ...fixedIps,
        released: fixedIps.before.filter((f) => !fixedIps.after.some((a) => a.ip === f.ip)),
        allocated: fixedIps.after.filter((f) => !fixedIps.before.some((b) => b.ip === f.ip)),
      },
    };
    return this.emit('ipam.PortUpdated', { portId, ...rest, ...moved }, networkAggregate(networkId), tenant);
  }

  bind(networkId: string, portId: string, hostId: string | null, previousHostId: string | null, tenant: string): ModelEvent {
    return this.emit('ipam.PortBound', { portId, hostId, previousHostId }, networkAggregate(networkId), tenant);
  }

  deletePort(networkId: string, portId: string, tenant: string): ModelEvent {
    return this.emit('ipam.PortDeleted', { portId, releasedIps: [] }, networkAggregate(networkId), tenant);
  }

  router(routerId: string, tenant: string, routes: { destination: string; nexthop: string }[] = []): ModelEvent {
    return this.emit('ipam.RouterCreated', { routerId, name: routerId, ...(routes.length ? { routes } : {}) }, routerAggregate(routerId), tenant);
  }

  /** `router.update`: only the fields given (`routes` replaces the list). */
  updateRouter(routerId: string, fields: Omit<DataOf<'ipam.RouterUpdated'>, 'routerId'>, tenant: string): ModelEvent {
    return this.emit('ipam.RouterUpdated', { routerId, ...fields }, routerAggregate(routerId), tenant);
  }

  addInterface(routerId: string, subnetId: string, networkId: string, tenant: string): ModelEvent {
    return this.emit('ipam.RouterInterfaceAdded', { routerId, subnetId, networkId }, routerAggregate(routerId), tenant);
  }

  removeInterface(routerId: string, subnetId: string, networkId: string, tenant: string): ModelEvent {
    return this.emit('ipam.RouterInterfaceRemoved', { routerId, subnetId, networkId }, routerAggregate(routerId), tenant);
  }

  deleteRouter(routerId: string, tenant: string): ModelEvent {
    return this.emit('ipam.RouterDeleted', { routerId }, routerAggregate(routerId), tenant);
  }

  // ---- secgroup ----

  group(groupId: string, tenant: string, rules: SecurityGroupRule[] = [], isDefault = false): ModelEvent {
    return this.emit(
      'secgroup.GroupCreated',
      { groupId, name: groupId, description: '', isDefault, rules },
      securityGroupAggregate(groupId),
      tenant,
    );
  }

  addRule(groupId: string, r: SecurityGroupRule, tenant: string): ModelEvent {
    return this.emit('secgroup.RuleAdded', { groupId, rule: r }, securityGroupAggregate(groupId), tenant);
  }

  removeRule(groupId: string, ruleId: string, tenant: string): ModelEvent {
    return this.emit('secgroup.RuleRemoved', { groupId, ruleId }, securityGroupAggregate(groupId), tenant);
  }

  deleteGroup(groupId: string, tenant: string): ModelEvent {
    return this.emit('secgroup.GroupDeleted', { groupId }, securityGroupAggregate(groupId), tenant);
  }

  setGroups(portId: string, groupIds: string[], tenant: string): ModelEvent {
    return this.emit('secgroup.PortGroupsSet', { portId, groupIds: [...groupIds].sort() }, portSecurityAggregate(portId), tenant);
  }

  portSecurity(portId: string, enabled: boolean, tenant: string): ModelEvent {
    return this.emit('secgroup.PortSecuritySet', { portId, enabled }, portSecurityAggregate(portId), tenant);
  }

  forget(portId: string, tenant: string): ModelEvent {
    return this.emit('secgroup.PortForgotten', { portId }, portSecurityAggregate(portId), tenant);
  }

  // ---- chaining ----

  serviceFunction(
    functionId: string,
    tenant: string,
    legs: { ingress: string; egress?: string },
    opts: { mode?: 'l3' | 'wire'; virtualIp?: string | null; healthCheck?: HealthCheck | null } = {},
  ): ModelEvent {
    return this.emit(
      'chaining.ServiceFunctionCreated',
      {
        functionId,
        name: functionId,
        description: '',
        ingressPortId: legs.ingress,
        egressPortId: legs.egress ?? legs.ingress,
        mode: opts.mode ?? 'l3',
        virtualIp: opts.virtualIp ?? null,
        healthCheck: opts.healthCheck ?? null,
      },
      serviceFunctionAggregate(functionId),
      tenant,
    );
  }

  functionHealth(functionId: string, healthy: boolean, observedBy: string, tenant: string): ModelEvent {
    return this.emit(
      'chaining.FunctionHealthChanged',
      { functionId, healthy, reason: healthy ? 'check-recovered' : 'check-failed', observedBy, detail: '' },
      serviceFunctionAggregate(functionId),
      tenant,
    );
  }

  functionGroup(groupId: string, tenant: string, functionIds: string[], selection: GroupSelection = 'active-standby', fallback: GroupFallback = 'fail-closed'): ModelEvent {
    return this.emit('chaining.FunctionGroupCreated', { groupId, name: groupId, description: '', functionIds, selection, fallback }, functionGroupAggregate(groupId), tenant);
  }

  activeFunction(groupId: string, functionId: string | null, tenant: string, reason: 'initial' | 'garp' | 'health' = 'initial'): ModelEvent {
    return this.emit(
      'chaining.ActiveFunctionChanged',
      { groupId, functionId, previousFunctionId: null, reason, observedBy: '', detail: '' },
      functionGroupAggregate(groupId),
      tenant,
    );
  }

  /** A classifier: IPv4, any protocol, any source and destination unless given. */
  classifier(classifierId: string, tenant: string, match: Partial<Omit<FlowClassifier, 'id'>> = {}): ModelEvent {
    const classifier: FlowClassifier = {
      id: classifierId,
      ethertype: 'IPv4',
      protocol: 'any',
      source: { groupId: null, cidr: null },
      destination: { groupId: null, cidr: null },
      sourcePorts: null,
      destinationPorts: null,
      ...match,
    };
    return this.emit('chaining.FlowClassifierCreated', { classifier, name: classifierId, description: '' }, flowClassifierAggregate(classifierId), tenant);
  }

  chain(chainId: string, routerId: string, groupIds: string[], classifierIds: string[], tenant: string, symmetric = true): ModelEvent {
    return this.emit('chaining.ChainCreated', { chainId, name: chainId, description: '', routerId, groupIds, classifierIds, symmetric }, chainAggregate(chainId), tenant);
  }

  updateChain(chainId: string, tenant: string, change: { groupIds?: string[]; classifierIds?: string[] }): ModelEvent {
    return this.emit('chaining.ChainUpdated', { chainId, ...change }, chainAggregate(chainId), tenant);
  }

  updateFunction(functionId: string, tenant: string, change: { name?: string; healthCheck?: HealthCheck | null }): ModelEvent {
    return this.emit('chaining.ServiceFunctionUpdated', { functionId, ...change }, serviceFunctionAggregate(functionId), tenant);
  }

  renameClassifier(classifierId: string, tenant: string, name: string): ModelEvent {
    return this.emit('chaining.FlowClassifierUpdated', { classifierId, name }, flowClassifierAggregate(classifierId), tenant);
  }

  updateFunctionGroup(groupId: string, tenant: string, functionIds: string[]): ModelEvent {
    return this.emit('chaining.FunctionGroupUpdated', { groupId, functionIds }, functionGroupAggregate(groupId), tenant);
  }

  deleteChain(chainId: string, tenant: string): ModelEvent {
    return this.emit('chaining.ChainDeleted', { chainId }, chainAggregate(chainId), tenant);
  }
}

/** What a gateway device learned, as the BGP gateway records it (the event's tenant: the binding's). */
export function physicalMac(g: Given, learned: boolean, m: ZoneMac, tenant: string): ModelEvent {
  return g.emit(learned ? 'bgp.PhysicalMacLearned' : 'bgp.PhysicalMacWithdrawn', m, bgpPhysicalAggregate(`${m.deviceId}-${m.vni}-${m.mac}-${m.ip ?? ''}`), tenant);
}

export function physicalVtep(g: Given, learned: boolean, v: PhysicalVtep, tenant: string): ModelEvent {
  return g.emit(learned ? 'bgp.PhysicalVtepLearned' : 'bgp.PhysicalVtepWithdrawn', v, bgpPhysicalAggregate(`${v.deviceId}-${v.vni}`), tenant);
}

/** A fresh model built by replaying events. */
export function replay(events: Iterable<ModelEvent>): Model {
  const model = emptyModel();
  for (const e of events) applyEvent(model, e);
  return model;
}

/** Every host the model mentions: registered ones and any a port is bound to. */
export function mentionedHosts(model: Model): Set<string> {
  return new Set([...model.ipam.hypervisors.keys(), ...model.ipam.hostPorts.keys()]);
}

/** The oracle: every host's view recomputed from scratch, as one key map. */
export function deriveAll(model: Model, hosts: Iterable<string> = mentionedHosts(model)): HostKeys {
  const all: HostKeys = new Map();
  for (const h of hosts) for (const [k, v] of deriveHost(model, h)) all.set(k, v);
  return all;
}

/** Key map → sorted plain object with parsed values, for readable assertions. */
export function plain(keys: ReadonlyMap<string, string>): Record<string, unknown> {
  return Object.fromEntries([...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, JSON.parse(v) as unknown]));
}
