import { AlreadyExistsError, ExhaustedError, ValidationError } from '@strata/errors';
import { isAutoAddressSubnet, networkAggregate, type FixedIp, type IpamCommand } from '@strata/contracts';
import { contains, lastAddress, parseAddress, parsePrefix } from '@strata/netaddr';
import { createdId, visible } from '@strata/service-kit';
import { generatedMac, nextFreeAddress } from '../allocate.js';
import { autoAddress as eui64PortAddress } from '../ipv6-modes.js';
import type { IpamState, NetworkState, PortEntry, SubnetEntry } from '../state.js';
import { resolvePairs } from './pairs.js';
import { openNetwork, requireHypervisor } from './shared.js';
import type { CommandContext, Decision } from './types.js';

export function createPort(state: IpamState, cmd: IpamCommand<'port.create'>, ctx: CommandContext): Decision {
  const { network, aggregate } = openNetwork(state, ctx.caller, cmd.networkId);
  const id = createdId(ctx.caller, 'ipam', 'port');
  if (state.portNetwork[id] !== undefined) {
    if (state.portNetwork[id] === cmd.networkId) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`port ${id} already exists`);
  }
  if (cmd.hostId !== null) requireHypervisor(state, cmd.hostId);
  const mac = cmd.mac ?? freeMac(aggregate, ctx.policy.macPrefix, id);
  const owner = aggregate.macs[mac];
  if (owner !== undefined) {
    throw new AlreadyExistsError(`MAC ${mac} is already used by port ${owner} on network ${cmd.networkId}`, { field: 'mac' });
  }
  const addresses = fixedIps(aggregate, cmd, mac);
  const pairs = resolvePairs(aggregate, cmd.networkId, { mac, fixedIps: addresses }, cmd.allowedAddressPairs ?? [], 'allowedAddressPairs');
  return {
    kind: 'append',
    aggregate: networkAggregate(cmd.networkId),
    expectedVersion: aggregate.version,
    tenant: network.tenant,
    resourceId: id,
    event: {
      type: 'ipam.PortCreated',
      data: {
        portId: id,
        name: cmd.name,
        mac,
        fixedIps: addresses,
        hostId: cmd.hostId,
        deviceId: cmd.deviceId,
        ...(pairs.length ? { allowedAddressPairs: pairs } : {}),
      },
    },
  };
}

export function bindPort(state: IpamState, cmd: IpamCommand<'port.bind'>, ctx: CommandContext): Decision {
  const { port, aggregate } = findPort(state, ctx, cmd.id);
  if (port.hostId === cmd.hostId) return { kind: 'done', resourceId: port.id };
  if (cmd.hostId !== null) requireHypervisor(state, cmd.hostId);
  return {
    kind: 'append',
    aggregate: networkAggregate(port.networkId),
    expectedVersion: aggregate.version,
    tenant: port.tenant,
    resourceId: port.id,
    event: { type: 'ipam.PortBound', data: { portId: port.id, hostId: cmd.hostId, previousHostId: port.hostId } },
  };
}

export function deletePort(state: IpamState, cmd: IpamCommand<'port.delete'>, ctx: CommandContext): Decision {
  const { port, aggregate } = findPort(state, ctx, cmd.id);
  return {
    kind: 'append',
    aggregate: networkAggregate(port.networkId),
    expectedVersion: aggregate.version,
    tenant: port.tenant,
    resourceId: port.id,
    event: { type: 'ipam.PortDeleted', data: { portId: port.id, releasedIps: port.fixedIps } },
  };
}

export function findPort(state: IpamState, ctx: CommandContext, id: string): { port: PortEntry; aggregate: NetworkState } {
  const networkId = state.portNetwork[id];
  const aggregate = networkId === undefined ? undefined : state.networks[networkId];
  const port = visible(ctx.caller, 'port', id, aggregate?.ports[id]);
  return { port, aggregate: aggregate! };
}

function freeMac(n: NetworkState, prefix: string, portId: string): string {
  // 2^24 MACs per prefix and network: a few attempts find a free one unless the network is absurdly full.
  for (let attempt = 0; attempt < 64; attempt++) {
    const mac = generatedMac(prefix, portId, attempt);
    if (n.macs[mac] === undefined) return mac;
  }
  throw new ExhaustedError(`could not generate a free MAC on this network; pass one explicitly`);
}

/** Resolve requested fixed IPs (or the default: one per subnet) to concrete, free addresses. */
function fixedIps(n: NetworkState, cmd: IpamCommand<'port.create'>, mac: string): FixedIp[] {
  const requests = cmd.fixedIps ?? Object.keys(n.subnets).map((subnetId) => ({ subnetId, ip: undefined }));
  const chosen = new Set<string>();
  return requests.map((req, i) => {
    const field = `fixedIps.${i}`;
    const subnet = subnetFor(n, cmd.networkId, req, field);
    const ip = isAutoAddressSubnet(subnet)
      ? eui64Address(subnet, mac, req.ip, chosen, field)
      : req.ip === undefined
        ? autoAddress(subnet, chosen)
        : explicitAddress(subnet, req.ip, chosen, field);
    chosen.add(ip);
    return { subnetId: subnet.id, ip };
  });
}

function subnetFor(n: NetworkState, networkId: string, req: { subnetId?: string | undefined; ip?: string | undefined }, field: string): SubnetEntry {
  if (req.subnetId !== undefined) {
    const s = n.subnets[req.subnetId];
    if (!s) throw new ValidationError(`subnet ${req.subnetId} is not a subnet of network ${networkId}`, { field: `${field}.subnetId` });
    return s;
  }
  const ip = parseAddress(req.ip!);
  const s = Object.values(n.subnets).find((c) => contains(parsePrefix(c.cidr), ip));
  if (!s) throw new ValidationError(`address ${req.ip} is in no subnet of network ${networkId}`, { field: `${field}.ip` });
  return s;
}

/**
 * On a SLAAC or DHCPv6-stateless subnet the port's address is the one its
 * VM will configure itself: the EUI-64 of its MAC (as Neutron records it),
 * so anti-spoofing, neighbour entries and group sets know it. It cannot be
 * chosen (Neutron refuses that too).
 */
function eui64Address(subnet: SubnetEntry, mac: string, requested: string | undefined, chosen: Set<string>, field: string): string {
  if (requested !== undefined) {
    throw new ValidationError(
      `address ${requested} cannot be assigned on subnet ${subnet.id} (${subnet.cidr}): its addresses are EUI-64 of the port's MAC (${subnet.ipv6AddressMode ?? subnet.ipv6RaMode})`,
      { field: `${field}.ip` },
    );
  }
  const ip = eui64PortAddress(parsePrefix(subnet.cidr), mac);
  const owner = subnet.allocated[ip];
  if (owner !== undefined || chosen.has(ip)) {
    const by = owner === 'gateway' ? 'the subnet gateway' : owner === undefined ? 'this request' : `port ${owner}`;
    throw new AlreadyExistsError(`EUI-64 address ${ip} of MAC ${mac} on subnet ${subnet.id} is already used by ${by}`, { field: `${field}.subnetId` });
  }
  return ip;
}

function autoAddress(subnet: SubnetEntry, chosen: Set<string>): string {
  const full = BigInt(subnet.poolAllocated) >= BigInt(subnet.poolSize);
  const ip = full ? null : nextFreeAddress(subnet, (candidate) => chosen.has(candidate));
  if (ip === null) {
    throw new ExhaustedError(
      `subnet ${subnet.id} (${subnet.cidr}) has no free address left in its allocation pools (${subnet.poolSize} addresses)`,
      { subnetId: subnet.id },
    );
  }
  return ip;
}

function explicitAddress(subnet: SubnetEntry, ip: string, chosen: Set<string>, field: string): string {
  const prefix = parsePrefix(subnet.cidr);
  const value = parseAddress(ip);
  if (!contains(prefix, value)) {
    throw new ValidationError(`address ${ip} is outside subnet ${subnet.id} (${subnet.cidr})`, { field: `${field}.ip` });
  }
  const hostBits = (prefix.version === 4 ? 32 : 128) - prefix.length;
  if (hostBits > 1 && (value.value === prefix.network || (prefix.version === 4 && value.value === lastAddress(prefix)))) {
    throw new ValidationError(`address ${ip} is the network or broadcast address of ${subnet.cidr}`, { field: `${field}.ip` });
  }
  const owner = subnet.allocated[ip];
  if (owner !== undefined || chosen.has(ip)) {
    const by = owner === 'gateway' ? 'the subnet gateway' : owner === undefined ? 'this request' : `port ${owner}`;
    throw new AlreadyExistsError(`address ${ip} on subnet ${subnet.id} is already used by ${by}`, { field: `${field}.ip` });
  }
  return ip;
}
