/**
 * A miniature cloud for tests (networks, routing domains, ports bound to
 * hosts, security groups) → each host's view, derived by hostview's own
 * derivation: the cloud is written as the IPAM and secgroup events that
 * would make it, folded into hostview's model, derived into the host's keys,
 * and read back through the agent's own HostViewStore. So an agent test sees
 * exactly what a real agent would, and there is no second derivation to
 * drift from the first.
 */
import { CLOUD_AGGREGATE, type GatewayMacsObservation, type SecurityGroupRule, type SubnetInfo } from '@strata/contracts';
import { deriveHost } from '@strata/hostview';
import { Given, replay, rule } from '@strata/hostview/testing';
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
  /** Administrative state (default true). */
  adminStateUp?: boolean;
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
  /** Router id → its static routes (extraroute). */
  routers?: Record<string, { destination: string; nexthop: string }[]>;
  /** Software L2 gateway bindings: VLAN `vlan` of NIC `nic` of gateway host `host` carries `networkId`. */
  bindings?: { id: string; host: string; nic: string; vlan: number; networkId: string }[];
  /** Gateway hosts' learned-MAC reports, as IPAM records an accepted one (domain/decide/gateway-macs.ts): a MAC per IP, or MAC-only. */
  gatewayMacs?: GatewayMacsObservation[];
}

/** The cloud as the IPAM and secgroup events that would make it, folded into hostview's model. */
export function cloudLog(cloud: Cloud): Given {
  const g = new Given();
  for (const [hostId, vtepIp] of Object.entries(cloud.hosts)) g.host(hostId, vtepIp);
  const routers = new Set<string>();
  for (const d of cloud.domains) {
    if (d.kind !== 'router') continue;
    g.router(d.id, d.tenant, cloud.routers?.[d.id] ?? []);
    routers.add(d.id);
  }
  for (const n of cloud.networks) {
    g.network(n.id, n.tenant, n.vni, n.mtu);
    for (const s of n.subnets) {
      g.subnet(n.id, s.id, s.cidr, s.gatewayIp, n.tenant, s.enableDhcp, { ...(s.dnsNameservers ? { dnsNameservers: s.dnsNameservers } : {}), ...(s.hostRoutes ? { hostRoutes: s.hostRoutes } : {}) });
      if (routers.has(n.domainId)) g.addInterface(n.domainId, s.id, n.id, n.tenant);
    }
  }
  for (const group of cloud.groups ?? []) g.group(group.id, group.tenant, group.rules);
  const tenantOf = new Map(cloud.networks.map((n) => [n.id, n.tenant]));
  for (const p of cloud.ports) {
    const tenant = tenantOf.get(p.networkId);
    if (tenant === undefined) continue;
    g.port(p.networkId, p.id, p.host, p.mac, p.fixedIps, tenant, p.adminStateUp ?? true);
    g.setGroups(p.id, [...new Set(p.groupIds ?? [])], tenant);
    if (p.portSecurity === false) g.portSecurity(p.id, false, tenant);
  }
  // One `host` gateway device per host that has bindings, its ports the NICs they name.
  const gateways = new Set((cloud.bindings ?? []).map((b) => b.host));
  for (const host of gateways) {
    const nics = [...new Set((cloud.bindings ?? []).filter((b) => b.host === host).map((b) => b.nic))];
    const ports = nics.map((name) => ({ name, tenant: null }));
    g.emit('ipam.GatewayDeviceCreated', { deviceId: `gw-${host}`, name: host, kind: 'host', vtepIp: cloud.hosts[host] ?? '', hostId: host, ports }, CLOUD_AGGREGATE, '_system');
  }
  for (const b of cloud.bindings ?? []) {
    const n = cloud.networks.find((x) => x.id === b.networkId);
    if (!n) continue;
    const data = { bindingId: b.id, tenant: n.tenant, networkId: n.id, vni: n.vni, deviceId: `gw-${b.host}`, port: b.nic, vlan: b.vlan };
    g.emit('ipam.GatewayBindingCreated', data, CLOUD_AGGREGATE, n.tenant);
  }
  for (const report of cloud.gatewayMacs ?? []) {
    for (const { bindingId, macs } of report.bindings) {
      const b = cloud.bindings?.find((x) => x.id === bindingId);
      const n = b && cloud.networks.find((x) => x.id === b.networkId);
      if (!b || !n) continue;
      for (const { mac, ips } of macs) {
        for (const ip of ips.length > 0 ? ips : [undefined]) {
          const data = { bindingId, deviceId: `gw-${b.host}`, vni: n.vni, mac, ...(ip !== undefined ? { ip } : {}), vtep: cloud.hosts[b.host] ?? '' };
          g.emit('ipam.PhysicalMacLearned', data, CLOUD_AGGREGATE, n.tenant);
        }
      }
    }
  }
  return g;
}

/** One host's view of the cloud, as its agent would hold it. */
export function hostView(cloud: Cloud, host: string): HostViewSnapshot {
  if (cloud.hosts[host] === undefined) throw new Error(`no host ${host}`);
  const model = replay(cloudLog(cloud).events);
  const store = new HostViewStore(host);
  let revision = 0;
  for (const [key, value] of deriveHost(model, host)) store.apply({ key, operation: 'PUT', revision: ++revision, value });
  return store.snapshot();
}

/** A security-group rule: any protocol, any peer, unless `over` says otherwise. */
export function sgRule(id: string, direction: SecurityGroupRule['direction'], over: Partial<SecurityGroupRule> = {}): SecurityGroupRule {
  return { ...rule(id, direction, 'any'), ...over };
}

/** A subnet with its first host address as gateway. */
export function subnet(id: string, cidr: string, gatewayIp: string | null, enableDhcp = true): SubnetInfo {
  return { id, ipVersion: cidr.includes(':') ? 6 : 4, cidr, gatewayIp, enableDhcp };
}
