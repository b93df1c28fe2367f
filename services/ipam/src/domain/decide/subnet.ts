import { AlreadyExistsError, IllegalStateError, ValidationError } from '@strata/errors';
import { networkAggregate, presentIpv6Modes, type IpamCommand, type Route } from '@strata/contracts';
import { contains, formatAddress, formatPrefix, lastAddress, overlaps, parseAddress, parsePrefix, rangesOverlap, type Prefix, type Range } from '@strata/netaddr';
import { createdId, visible } from '@strata/service-kit';
import { defaultPools, inRanges, poolRanges, toPools } from '../allocate.js';
import { checkIpv6Modes } from '../ipv6-modes.js';
import { checkRoutedSubnet } from './routed.js';
import type { IpamState, SubnetEntry } from '../state.js';
import { changedFields, isEmpty, openNetwork, requireRevision } from './shared.js';
import type { CommandContext, Decision } from './types.js';

export function createSubnet(state: IpamState, cmd: IpamCommand<'subnet.create'>, ctx: CommandContext): Decision {
  const { network, aggregate } = openNetwork(state, ctx.caller, cmd.networkId);
  const id = createdId(ctx.caller, 'ipam', 'subnet');
  if (state.subnetNetwork[id] !== undefined) {
    if (state.subnetNetwork[id] === cmd.networkId) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`subnet ${id} already exists`);
  }
  const prefix = parsePrefix(cmd.cidr);
  for (const s of Object.values(aggregate.subnets)) {
    if (overlaps(prefix, parsePrefix(s.cidr))) {
      throw new ValidationError(`${cmd.cidr} overlaps subnet ${s.id} (${s.cidr}) on network ${cmd.networkId}`, { field: 'cidr', subnetId: s.id });
    }
  }
  if (network.routed) checkRoutedSubnet(state, network.tenant, cmd.networkId, cmd.cidr);
  const gatewayIp = gateway(prefix, cmd.gatewayIp);
  checkIpv6Modes({ cidr: cmd.cidr, gatewayIp, enableDhcp: cmd.enableDhcp, ipv6RaMode: cmd.ipv6RaMode, ipv6AddressMode: cmd.ipv6AddressMode });
  const gw = gatewayIp === null ? null : parseAddress(gatewayIp).value;
  const pools = cmd.allocationPools === undefined ? defaultPools(prefix, gw) : checkedPools(prefix, cmd.allocationPools, gw);
  checkDnsNameservers(prefix, cmd.dnsNameservers);
  checkHostRoutes(prefix, cmd.hostRoutes);
  return {
    kind: 'append',
    aggregate: networkAggregate(cmd.networkId),
    expectedVersion: aggregate.version,
    tenant: network.tenant,
    resourceId: id,
    event: {
      type: 'ipam.SubnetCreated',
      data: {
        subnetId: id,
        name: cmd.name,
        ipVersion: prefix.version,
        cidr: cmd.cidr,
        gatewayIp,
        allocationPools: toPools(pools),
        enableDhcp: cmd.enableDhcp,
        ...(cmd.description ? { description: cmd.description } : {}),
        ...(cmd.dnsNameservers.length ? { dnsNameservers: cmd.dnsNameservers } : {}),
        ...(cmd.hostRoutes.length ? { hostRoutes: cmd.hostRoutes } : {}),
        ...presentIpv6Modes(cmd),
      },
    },
  };
}

/**
 * Name, description, allocation pools, DHCP on/off, DNS servers and host
 * routes change, each checked as at creation; the network, CIDR and IP
 * version are refused by the request schema (ports hold addresses of them).
 */
export function updateSubnet(state: IpamState, cmd: IpamCommand<'subnet.update'>, ctx: CommandContext): Decision {
  const networkId = state.subnetNetwork[cmd.id];
  const n = networkId === undefined ? undefined : state.networks[networkId];
  const subnet = visible(ctx.caller, 'subnet', cmd.id, n?.subnets[cmd.id]);
  const { aggregate } = openNetwork(state, ctx.caller, subnet.networkId);
  requireRevision('subnet', cmd.id, subnet.revision, cmd.expectedRevision);
  const prefix = parsePrefix(subnet.cidr);
  if (cmd.dnsNameservers !== undefined) checkDnsNameservers(prefix, cmd.dnsNameservers);
  if (cmd.hostRoutes !== undefined) checkHostRoutes(prefix, cmd.hostRoutes);
  const allocationPools = cmd.allocationPools === undefined ? undefined : toPools(resizedPools(subnet, prefix, cmd.allocationPools));
  const changed = changedFields(subnet, { ...cmd, allocationPools }, ['name', 'description', 'allocationPools', 'enableDhcp', 'dnsNameservers', 'hostRoutes']);
  if (isEmpty(changed)) return { kind: 'done', resourceId: cmd.id };
  return {
    kind: 'append',
    aggregate: networkAggregate(subnet.networkId),
    expectedVersion: aggregate.version,
    tenant: subnet.tenant,
    resourceId: cmd.id,
    event: { type: 'ipam.SubnetUpdated', data: { subnetId: cmd.id, ...changed } },
  };
}

/**
 * New pools for a subnet in use: checked as at creation, and every address
 * assigned from the current pools must still be inside the new ones (an
 * address outside every pool was asked for explicitly and stays as it is).
 */
function resizedPools(subnet: SubnetEntry, prefix: Prefix, pools: { start: string; end: string }[]): Range[] {
  const gw = subnet.gatewayIp === null ? null : parseAddress(subnet.gatewayIp).value;
  const ranges = checkedPools(prefix, pools, gw);
  const current = poolRanges(subnet.ipVersion, subnet.allocationPools);
  for (const [ip, owner] of Object.entries(subnet.allocated)) {
    if (owner === 'gateway') continue;
    const value = parseAddress(ip).value;
    if (inRanges(current, value) && !inRanges(ranges, value)) {
      throw new ValidationError(`the new allocation pools leave out ${ip}, assigned to port ${owner}: change that port's fixed IPs first or keep ${ip} in a pool`, {
        field: 'allocationPools',
        ip,
        portId: owner,
      });
    }
  }
  return ranges;
}

/** DNS servers of a subnet: addresses of its own IP version (the request schema made them canonical and unique). */
function checkDnsNameservers(prefix: Prefix, servers: readonly string[]): void {
  servers.forEach((ip, i) => {
    if (parseAddress(ip).version !== prefix.version) {
      throw new ValidationError(`DNS server ${ip} is not an IPv${prefix.version} address like the subnet`, { field: `dnsNameservers.${i}` });
    }
  });
}

/** Host routes of a subnet: of its IP version, one per destination, each nexthop an address inside the subnet (a VM reaches it directly). */
function checkHostRoutes(prefix: Prefix, routes: readonly Route[]): void {
  const seen = new Set<string>();
  routes.forEach((r, i) => {
    const field = `hostRoutes.${i}`;
    if (parsePrefix(r.destination).version !== prefix.version) {
      throw new ValidationError(`host route to ${r.destination} is not IPv${prefix.version} like the subnet`, { field: `${field}.destination` });
    }
    if (seen.has(r.destination)) throw new ValidationError(`host route to ${r.destination} is given twice`, { field: `${field}.destination` });
    seen.add(r.destination);
    const hop = parseAddress(r.nexthop);
    if (!contains(prefix, hop)) {
      throw new ValidationError(`host route to ${r.destination}: nexthop ${r.nexthop} is outside the subnet ${formatPrefix(prefix)}`, { field: `${field}.nexthop` });
    }
    if (reserved(prefix, hop.value)) {
      throw new ValidationError(`host route to ${r.destination}: nexthop ${r.nexthop} is the network or broadcast address of the subnet`, { field: `${field}.nexthop` });
    }
  });
}

export function deleteSubnet(state: IpamState, cmd: IpamCommand<'subnet.delete'>, ctx: CommandContext): Decision {
  const networkId = state.subnetNetwork[cmd.id];
  const n = networkId === undefined ? undefined : state.networks[networkId];
  const subnet = visible(ctx.caller, 'subnet', cmd.id, n?.subnets[cmd.id]);
  const router = state.subnetRouter[cmd.id];
  if (router !== undefined) throw new IllegalStateError(`subnet ${cmd.id} is joined to router ${router}; remove the router interface first`);
  const inUse = Object.values(subnet.allocated).filter((owner) => owner !== 'gateway').length;
  if (inUse > 0) {
    throw new IllegalStateError(`subnet ${cmd.id} still has ${inUse} address(es) assigned to ports; delete those ports first`, { inUse });
  }
  return {
    kind: 'append',
    aggregate: networkAggregate(subnet.networkId),
    expectedVersion: n?.version ?? 0,
    tenant: subnet.tenant,
    resourceId: cmd.id,
    event: { type: 'ipam.SubnetDeleted', data: { subnetId: cmd.id } },
  };
}

/** Hosts addresses that can never be assigned: the network address and, for IPv4, the broadcast. */
function reserved(prefix: Prefix, value: bigint): boolean {
  const hostBits = (prefix.version === 4 ? 32 : 128) - prefix.length;
  if (hostBits <= 1) return false;
  return value === prefix.network || (prefix.version === 4 && value === lastAddress(prefix));
}

function gateway(prefix: Prefix, requested: string | null | undefined): string | null {
  if (requested === null) return null;
  if (requested === undefined) {
    const hostBits = (prefix.version === 4 ? 32 : 128) - prefix.length;
    return hostBits <= 1 ? null : formatAddress({ version: prefix.version, value: prefix.network + 1n });
  }
  const value = parseAddress(requested);
  if (!contains(prefix, value)) {
    throw new ValidationError(`gateway ${requested} is outside ${formatAddress({ version: prefix.version, value: prefix.network })}/${prefix.length}`, { field: 'gatewayIp' });
  }
  if (reserved(prefix, value.value)) {
    throw new ValidationError(`gateway ${requested} is the network or broadcast address of the subnet`, { field: 'gatewayIp' });
  }
  return requested;
}

function checkedPools(prefix: Prefix, pools: { start: string; end: string }[], gw: bigint | null): Range[] {
  const ranges = poolRanges(prefix.version, pools);
  ranges.forEach((r, i) => {
    const field = `allocationPools.${i}`;
    const p = pools[i]!;
    for (const [end, text] of [[r.start, p.start], [r.end, p.end]] as const) {
      const a = parseAddress(text);
      if (!contains(prefix, a)) throw new ValidationError(`allocation pool ${p.start}-${p.end}: ${text} is outside the subnet`, { field });
      if (reserved(prefix, end)) throw new ValidationError(`allocation pool ${p.start}-${p.end} includes the network or broadcast address`, { field });
    }
    if (r.start > r.end) throw new ValidationError(`allocation pool ${p.start}-${p.end} ends before it starts`, { field });
    if (gw !== null && r.start <= gw && gw <= r.end) {
      throw new ValidationError(`allocation pool ${p.start}-${p.end} includes the gateway address`, { field });
    }
    ranges.slice(0, i).forEach((other, j) => {
      if (rangesOverlap(r, other)) throw new ValidationError(`allocation pools ${j} and ${i} overlap`, { field });
    });
  });
  return ranges;
}
