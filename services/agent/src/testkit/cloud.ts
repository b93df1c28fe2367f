/**
 * A miniature control plane for tests: a cloud (networks, routing domains,
 * ports bound to hosts) → each host's view, derived the way the host-view
 * contract describes it (a host needs every network of a routing domain in
 * which it has a port; remote endpoints are the other hosts' ports on those
 * networks; flood VTEPs are the other hosts with ports on the network; a
 * host gets the rules of its ports' security groups and the members of the
 * groups those rules name as remote group).
 */
import {
  gatewayMac,
  portDevice,
  type GroupMember,
  type HostNetwork,
  type HostRule,
  type HostSecurityGroup,
  type LocalPort,
  type RemoteEndpoint,
  type RoutingDomain,
  type SubnetInfo,
} from '@strata/contracts';
import type { HostViewSnapshot } from '../core/snapshot.js';

export interface CloudNetwork {
  id: string;
  tenant: string;
  vni: number;
  mtu?: number;
  subnets: SubnetInfo[];
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
  securityGroups?: string[];
  /** Anti-spoofing (default true). */
  portSecurity?: boolean;
}

export interface CloudGroup {
  id: string;
  tenant: string;
  rules: HostRule[];
}

export interface Cloud {
  /** Host name → VTEP address. */
  hosts: Record<string, string>;
  networks: CloudNetwork[];
  domains: { id: string; tenant: string; kind: 'router' | 'network' }[];
  ports: CloudPort[];
  groups?: CloudGroup[];
}

export function hostView(cloud: Cloud, host: string): HostViewSnapshot {
  const vtep = cloud.hosts[host];
  if (vtep === undefined) throw new Error(`no host ${host}`);
  const netById = new Map(cloud.networks.map((n) => [n.id, n]));
  const localPorts = cloud.ports.filter((p) => p.host === host);
  const domainIds = new Set(localPorts.map((p) => netById.get(p.networkId)?.domainId).filter((d): d is string => d !== undefined));
  const nets = cloud.networks.filter((n) => domainIds.has(n.domainId));
  const netIds = new Set(nets.map((n) => n.id));

  const view: HostViewSnapshot = { host: { id: host, vtepIp: vtep, publicIp: '203.0.113.1' }, networks: {}, ports: {}, endpoints: {}, domains: {}, groups: {}, members: {} };
  for (const n of nets) {
    const flood = [...new Set(cloud.ports.filter((p) => p.networkId === n.id && p.host !== host).map((p) => cloud.hosts[p.host]!))].sort();
    const hn: HostNetwork = {
      id: n.id,
      tenant: n.tenant,
      vni: n.vni,
      mtu: n.mtu ?? 1450,
      subnets: n.subnets,
      domainId: n.domainId,
      gatewayMac: gatewayMac(n.vni),
      floodVteps: flood,
    };
    view.networks[n.id] = hn;
  }
  for (const d of cloud.domains) {
    if (!domainIds.has(d.id)) continue;
    const rd: RoutingDomain = { id: d.id, tenant: d.tenant, kind: d.kind, networkIds: nets.filter((n) => n.domainId === d.id).map((n) => n.id) };
    view.domains[d.id] = rd;
  }
  for (const p of cloud.ports) {
    if (!netIds.has(p.networkId)) continue;
    if (p.host === host) {
      const lp: LocalPort = {
        id: p.id,
        tenant: netById.get(p.networkId)!.tenant,
        networkId: p.networkId,
        mac: p.mac,
        fixedIps: p.fixedIps,
        device: portDevice(p.id),
        securityGroups: [...new Set(p.securityGroups ?? [])].sort(),
        portSecurity: p.portSecurity ?? true,
      };
      view.ports[p.id] = lp;
    } else {
      const ep: RemoteEndpoint = { id: p.id, networkId: p.networkId, mac: p.mac, ips: p.fixedIps.map((f) => f.ip), vtep: cloud.hosts[p.host]! };
      view.endpoints[p.id] = ep;
    }
  }
  // Security groups: the rules of the local ports' groups, and the members of the groups they name.
  const groupById = new Map((cloud.groups ?? []).map((g) => [g.id, g]));
  for (const p of Object.values(view.ports)) {
    for (const gid of p.securityGroups ?? []) {
      const g = groupById.get(gid);
      if (!g) continue;
      const hg: HostSecurityGroup = { id: g.id, tenant: g.tenant, rules: [...g.rules].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)) };
      view.groups[gid] = hg;
    }
  }
  const remote = new Set(Object.values(view.groups).flatMap((g) => g.rules.map((r) => r.remoteGroupId).filter((r): r is string => r !== null)));
  for (const p of cloud.ports) {
    for (const gid of p.securityGroups ?? []) {
      if (!remote.has(gid)) continue;
      const m: GroupMember = { groupId: gid, portId: p.id, ips: p.fixedIps.map((f) => f.ip) };
      view.members[`${gid}.${p.id}`] = m;
    }
  }
  return view;
}

/** A security-group rule: any protocol, any peer, unless `over` says otherwise. */
export function sgRule(id: string, direction: HostRule['direction'], over: Partial<HostRule> = {}): HostRule {
  return { id, direction, ethertype: 'IPv4', protocol: 'any', portMin: null, portMax: null, icmpType: null, icmpCode: null, remoteGroupId: null, remoteCidr: null, ...over };
}

/** A subnet with its first host address as gateway. */
export function subnet(id: string, cidr: string, gatewayIp: string | null, enableDhcp = true): SubnetInfo {
  return { id, ipVersion: cidr.includes(':') ? 6 : 4, cidr, gatewayIp, enableDhcp };
}
