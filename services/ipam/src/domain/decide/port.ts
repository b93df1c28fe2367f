import { AlreadyExistsError, ExhaustedError, ValidationError } from '@strata/errors';
import { isAutoAddressSubnet, networkAggregate, type FixedIp, type IpamCommand } from '@strata/contracts';
import { contains, lastAddress, parseAddress, parsePrefix } from '@strata/netaddr';
import { createdId, visible } from '@strata/service-kit';
import { generatedMac, nextFreeAddress } from '../allocate.js';
import { autoAddress as eui64PortAddress } from '../ipv6-modes.js';
import type { IpamState, NetworkState, PortEntry, SubnetEntry } from '../state.js';
import { resolvePairs, samePairs } from './pairs.js';
import { changedFields, isEmpty, openNetwork, requireHypervisor, requireRevision } from './shared.js';
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
    throw new AlreadyExistsError(`MAC ${mac} is already used by port ${owner} on network ${cmd.networkId}`, { field: 'mac', mac, networkId: cmd.networkId });
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
        ...(cmd.deviceOwner ? { deviceOwner: cmd.deviceOwner } : {}),
        ...(pairs.length ? { allowedAddressPairs: pairs } : {}),
        ...(cmd.description ? { description: cmd.description } : {}),
        ...(cmd.adminStateUp ? {} : { adminStateUp: false }),
      },
    },
  };
}

/**
 * Name, description, admin state, device (id and owner), fixed IPs and allowed address
 * pairs change, in one event (atomic, one revision). Fixed IPs are checked
 * as at creation (inside the subnet, free); the pairs are checked again
 * against the new addresses whenever either changes. The network, MAC,
 * tenant and host are refused by the request schema.
 */
export function updatePort(state: IpamState, cmd: IpamCommand<'port.update'>, ctx: CommandContext): Decision {
  const { port, aggregate } = findPort(state, ctx, cmd.id);
  requireRevision('port', cmd.id, port.revision, cmd.expectedRevision);
  const changed = changedFields(port, cmd, ['name', 'description', 'adminStateUp', 'deviceId', 'deviceOwner']);
  const moved = cmd.fixedIps === undefined ? undefined : updatedFixedIps(aggregate, port, cmd.fixedIps);
  const after = moved?.after ?? port.fixedIps;
  const current = port.allowedAddressPairs ?? [];
  const pairs =
    cmd.allowedAddressPairs === undefined && moved === undefined
      ? current
      : resolvePairs(aggregate, port.networkId, { mac: port.mac, fixedIps: after }, cmd.allowedAddressPairs ?? current, 'allowedAddressPairs');
  const data = {
    ...changed,
    ...(moved && !sameFixedIps(after, port.fixedIps) ? { fixedIps: moved } : {}),
    ...(samePairs(pairs, current) ? {} : { allowedAddressPairs: pairs }),
  };
  if (isEmpty(data)) return { kind: 'done', resourceId: port.id };
  return portEvent(port, aggregate, { type: 'ipam.PortUpdated', data: { portId: port.id, ...data } });
}

const key = (f: FixedIp): string => `${f.subnetId} ${f.ip}`;
const sameFixedIps = (a: readonly FixedIp[], b: readonly FixedIp[]): boolean => a.length === b.length && a.every((f, i) => key(f) === key(b[i]!));

type FixedIpRequest = { subnetId?: string | undefined; ip?: string | undefined };

/**
 * A port's new fixed IPs (Neutron's semantics): an entry naming an address
 * the port has keeps it; one naming only a subnet keeps an address the port
 * has there (one the list does not name) or takes the next free one; any
 * other address must be inside its subnet and free. What the list drops is
 * released to its subnet's pool.
 */
function updatedFixedIps(n: NetworkState, port: PortEntry, requests: readonly FixedIpRequest[]) {
  const has = new Set(port.fixedIps.map(key));
  const named = new Set(requests.flatMap((r) => (r.ip === undefined ? [] : [r.ip])));
  const spare = port.fixedIps.filter((f) => !named.has(f.ip));
  const chosen = new Set<string>();
  const after = requests.map((req, i): FixedIp => {
    const field = `fixedIps.${i}`;
    const subnet = subnetFor(n, port.networkId, req, field);
    let ip: string;
    if (req.ip !== undefined) {
      if (chosen.has(req.ip)) throw new ValidationError(`address ${req.ip} is asked for twice`, { field: `${field}.ip` });
      ip = has.has(key({ subnetId: subnet.id, ip: req.ip })) ? req.ip : explicitAddress(subnet, req.ip, chosen, field);
    } else {
      const kept = spare.findIndex((f) => f.subnetId === subnet.id);
      ip = kept >= 0 ? spare.splice(kept, 1)[0]!.ip : autoAddress(subnet, chosen);
    }
    chosen.add(ip);
    return { subnetId: subnet.id, ip };
  });
  const now = new Set(after.map(key));
  return {
    before: port.fixedIps,
    after,
    released: port.fixedIps.filter((f) => !now.has(key(f))),
    allocated: after.filter((f) => !has.has(key(f))),
  };
}

export function bindPort(state: IpamState, cmd: IpamCommand<'port.bind'>, ctx: CommandContext): Decision {
  const { port, aggregate } = findPort(state, ctx, cmd.id);
  if (port.hostId === cmd.hostId) return { kind: 'done', resourceId: port.id };
  if (cmd.hostId !== null) requireHypervisor(state, cmd.hostId);
  return portEvent(port, aggregate, { type: 'ipam.PortBound', data: { portId: port.id, hostId: cmd.hostId, previousHostId: port.hostId } });
}

export function deletePort(state: IpamState, cmd: IpamCommand<'port.delete'>, ctx: CommandContext): Decision {
  const { port, aggregate } = findPort(state, ctx, cmd.id);
  return portEvent(port, aggregate, { type: 'ipam.PortDeleted', data: { portId: port.id, releasedIps: port.fixedIps } });
}

/** An event about an existing port: on its network's aggregate, decided against the network's version, owned by the port's tenant. */
function portEvent(port: PortEntry, aggregate: NetworkState, event: Extract<Decision, { kind: 'append' }>['event']): Decision {
  return { kind: 'append', aggregate: networkAggregate(port.networkId), expectedVersion: aggregate.version, tenant: port.tenant, resourceId: port.id, event };
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
    throw new AlreadyExistsError(`EUI-64 address ${ip} of MAC ${mac} on subnet ${subnet.id} is already used by ${by}`, { field: `${field}.subnetId`, ip, subnetId: subnet.id });
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
    throw new AlreadyExistsError(`address ${ip} on subnet ${subnet.id} is already used by ${by}`, { field: `${field}.ip`, ip, subnetId: subnet.id });
  }
  return ip;
}
