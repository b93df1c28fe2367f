/**
 * A miniature cloud for tests (networks, routing domains, ports bound to
 * hosts, security groups) → each host's view, derived by hostview's own
 * derivation: the cloud is written as the IPAM and secgroup events that
 * would make it, folded into hostview's model, derived into the host's keys,
 * and read back through the agent's own HostViewStore. So an agent test sees
 * exactly what a real agent would, and there is no second derivation to
 * drift from the first.
 */
import {
  CLOUD_AGGREGATE,
  networkAggregate,
  portSecurityAggregate,
  routerAggregate,
  securityGroupAggregate,
  type SecurityGroupRule,
  type SubnetInfo,
} from '@strata/contracts';
import { applyEvent, deriveHost, emptyModel, type ModelEvent } from '@strata/hostview';
import type { HostViewSnapshot } from '../core/snapshot.js';
import { HostViewStore } from '../view/store.js';

export interface CloudNetwork {
  id: string;
  tenant: string;
  vni: number;
  mtu?: number;
  subnets: SubnetInfo[];
  /** The network's router (a domain of kind 'router'), or the network's own id. */
  domainId: string;
}

export interface CloudPort {
  id: string;
  networkId: string;
  mac: string;
  fixedIps: { subnetId: string; ip: string }[];
  /** Host name the port is bound to. */
  host: string;
  /** Security groups (default none: not filtered). */
  groupIds?: string[];
  /** Anti-spoofing (default true). */
  portSecurity?: boolean;
}

export interface CloudGroup {
  id: string;
  tenant: string;
  rules: SecurityGroupRule[];
}

export interface Cloud {
  /** Host name → VTEP address. */
  hosts: Record<string, string>;
  networks: CloudNetwork[];
  domains: { id: string; tenant: string; kind: 'router' | 'network' }[];
  ports: CloudPort[];
  groups?: CloudGroup[];
}

/** The public address every test hypervisor gets. */
const PUBLIC_IP = '203.0.113.1';

/** The events that make the cloud, in an order IPAM and secgroup could have written them. */
export function cloudEvents(cloud: Cloud): ModelEvent[] {
  const events: ModelEvent[] = [];
  const emit = (e: Omit<ModelEvent, 'seq'>): void => {
    events.push({ ...e, seq: events.length + 1 } as ModelEvent);
  };
  for (const [hostId, vtepIp] of Object.entries(cloud.hosts)) {
    emit({ type: 'ipam.HypervisorRegistered', data: { hostId, vtepIp, publicIp: PUBLIC_IP, hostPoolId: 'pool' }, aggregate: CLOUD_AGGREGATE, tenant: '_system' });
  }
  for (const d of cloud.domains) {
    if (d.kind === 'router') emit({ type: 'ipam.RouterCreated', data: { routerId: d.id, name: d.id }, aggregate: routerAggregate(d.id), tenant: d.tenant });
  }
  const routers = new Set(cloud.domains.filter((d) => d.kind === 'router').map((d) => d.id));
  for (const n of cloud.networks) {
    emit({ type: 'ipam.NetworkCreated', data: { networkId: n.id, name: n.id, vni: n.vni, mtu: n.mtu ?? 1450, routed: false }, aggregate: CLOUD_AGGREGATE, tenant: n.tenant });
    for (const s of n.subnets) {
      const data = { subnetId: s.id, name: s.id, ipVersion: s.ipVersion, cidr: s.cidr, gatewayIp: s.gatewayIp, allocationPools: [], enableDhcp: s.enableDhcp };
      emit({ type: 'ipam.SubnetCreated', data, aggregate: networkAggregate(n.id), tenant: n.tenant });
      if (routers.has(n.domainId)) {
        emit({ type: 'ipam.RouterInterfaceAdded', data: { routerId: n.domainId, subnetId: s.id, networkId: n.id }, aggregate: routerAggregate(n.domainId), tenant: n.tenant });
      }
    }
  }
  for (const g of cloud.groups ?? []) {
    emit({ type: 'secgroup.GroupCreated', data: { groupId: g.id, name: g.id, description: '', isDefault: false, rules: g.rules }, aggregate: securityGroupAggregate(g.id), tenant: g.tenant });
  }
  const tenantOf = new Map(cloud.networks.map((n) => [n.id, n.tenant]));
  for (const p of cloud.ports) {
    const tenant = tenantOf.get(p.networkId);
    if (tenant === undefined) continue;
    const data = { portId: p.id, name: p.id, mac: p.mac, fixedIps: p.fixedIps, hostId: p.host, deviceId: `vm-${p.id}` };
    emit({ type: 'ipam.PortCreated', data, aggregate: networkAggregate(p.networkId), tenant });
    emit({ type: 'secgroup.PortGroupsSet', data: { portId: p.id, groupIds: [...new Set(p.groupIds ?? [])].sort() }, aggregate: portSecurityAggregate(p.id), tenant });
    if (p.portSecurity === false) emit({ type: 'secgroup.PortSecuritySet', data: { portId: p.id, enabled: false }, aggregate: portSecurityAggregate(p.id), tenant });
  }
  return events;
}

/** One host's view of the cloud, as its agent would hold it. */
export function hostView(cloud: Cloud, host: string): HostViewSnapshot {
  if (cloud.hosts[host] === undefined) throw new Error(`no host ${host}`);
  const model = emptyModel();
  for (const e of cloudEvents(cloud)) applyEvent(model, e);
  const store = new HostViewStore(host);
  let revision = 0;
  for (const [key, value] of deriveHost(model, host)) store.apply({ key, operation: 'PUT', revision: ++revision, value });
  return store.snapshot();
}

/** A security-group rule: any protocol, any peer, unless `over` says otherwise. */
export function sgRule(id: string, direction: SecurityGroupRule['direction'], over: Partial<SecurityGroupRule> = {}): SecurityGroupRule {
  return { id, direction, ethertype: 'IPv4', protocol: 'any', portMin: null, portMax: null, icmpType: null, icmpCode: null, remoteGroupId: null, remoteCidr: null, ...over };
}

/** A subnet with its first host address as gateway. */
export function subnet(id: string, cidr: string, gatewayIp: string | null, enableDhcp = true): SubnetInfo {
  return { id, ipVersion: cidr.includes(':') ? 6 : 4, cidr, gatewayIp, enableDhcp };
}
