/** Cloud-wide public resources: pools, hypervisors (H-IPs), floating IPs, application prefixes. */
import { AlreadyExistsError, ExhaustedError, IllegalStateError, NotFoundError, ValidationError } from '@strata/errors';
import type { IpamCommand, PoolPurpose } from '@strata/contracts';
import { contains, covers, formatAddress, formatPrefix, lastAddress, overlaps, parseAddress, parsePrefix, type Prefix } from '@strata/netaddr';
import { canSee, createdId, owningTenant, requireAdmin, visible } from '@strata/service-kit';
import { nextFreePrefix } from '../allocate.js';
import type { IpamState, PoolEntry } from '../state.js';
import { routedSubnetsIn } from './routed.js';
import { cloudAppend } from './shared.js';
import { SYSTEM_TENANT, type Caller, type CommandContext, type Decision } from './types.js';


export function createPool(state: IpamState, cmd: IpamCommand<'pool.create'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, 'creating a pool');
  const id = createdId(ctx.caller, 'ipam', 'pool');
  if (state.cloud.pools[id]) return { kind: 'done', resourceId: id };
  const prefix = parsePrefix(cmd.cidr);
  for (const p of Object.values(state.cloud.pools)) {
    if (overlaps(prefix, parsePrefix(p.cidr))) {
      throw new ValidationError(`${cmd.cidr} overlaps pool ${p.id} (${p.cidr}, ${p.purpose})`, { field: 'cidr', poolId: p.id });
    }
  }
  return cloudAppend(state, SYSTEM_TENANT, id, { type: 'ipam.PoolCreated', data: { poolId: id, name: cmd.name, cidr: cmd.cidr, purpose: cmd.purpose } });
}

export function deletePool(state: IpamState, cmd: IpamCommand<'pool.delete'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, 'deleting a pool');
  const pool = state.cloud.pools[cmd.id];
  if (!pool) throw new NotFoundError('pool', cmd.id);
  if (pool.allocated > 0) throw new IllegalStateError(`pool ${cmd.id} still has ${pool.allocated} allocation(s); release them first`);
  const routed = pool.purpose === 'routed' ? routedSubnetsIn(state, pool) : [];
  if (routed.length > 0) {
    throw new IllegalStateError(`routed pool ${cmd.id} (${pool.cidr}) still contains ${routed.length} routed subnet(s): ${routed.map((s) => s.id).join(', ')}; delete them first`, {
      subnets: routed.length,
    });
  }
  return cloudAppend(state, SYSTEM_TENANT, cmd.id, { type: 'ipam.PoolDeleted', data: { poolId: cmd.id } });
}

export function registerHypervisor(state: IpamState, cmd: IpamCommand<'hypervisor.register'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, 'registering a hypervisor');
  const existing = state.cloud.hypervisors[cmd.id];
  if (existing) {
    if (existing.vtepIp === cmd.vtepIp && existing.hostPoolId === cmd.hostPoolId) return { kind: 'done', resourceId: cmd.id };
    throw new AlreadyExistsError(`hypervisor ${cmd.id} is already registered (VTEP ${existing.vtepIp})`, { field: 'id' });
  }
  const vtepOwner = state.cloud.vteps[cmd.vtepIp];
  if (vtepOwner !== undefined) throw new AlreadyExistsError(`VTEP address ${cmd.vtepIp} is already used by hypervisor ${vtepOwner}`, { field: 'vtepIp' });
  const pool = poolFor(state, cmd.hostPoolId, 'host-ip', 'hostPoolId');
  const publicIp = cmd.publicIp === undefined ? nextFreeHost(state, pool) : explicitHost(state, ctx.caller, pool, cmd.publicIp, 'publicIp');
  return cloudAppend(state, SYSTEM_TENANT, cmd.id, {
    type: 'ipam.HypervisorRegistered',
    data: { hostId: cmd.id, vtepIp: cmd.vtepIp, publicIp, hostPoolId: pool.id },
  });
}

export function deregisterHypervisor(state: IpamState, cmd: IpamCommand<'hypervisor.deregister'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, 'deregistering a hypervisor');
  const h = state.cloud.hypervisors[cmd.id];
  if (!h) throw new NotFoundError('hypervisor', cmd.id);
  const bound = Object.values(state.networks).reduce(
    (n, net) => n + Object.values(net.ports).filter((p) => p.hostId === cmd.id).length,
    0,
  );
  if (bound > 0) throw new IllegalStateError(`hypervisor ${cmd.id} still hosts ${bound} port(s); move or delete them first`, { ports: bound });
  const gateway = Object.values(state.cloud.gatewayDevices).find((d) => d.hostId === cmd.id);
  if (gateway) throw new IllegalStateError(`hypervisor ${cmd.id} is gateway device ${gateway.id}; delete the device first`);
  return cloudAppend(state, SYSTEM_TENANT, cmd.id, { type: 'ipam.HypervisorDeregistered', data: { hostId: cmd.id, publicIp: h.publicIp } });
}

export function allocateFloatingIp(state: IpamState, cmd: IpamCommand<'floatingip.create'>, ctx: CommandContext): Decision {
  const tenant = owningTenant(ctx.caller, cmd.tenant);
  const id = createdId(ctx.caller, 'ipam', 'floating-ip');
  const existing = state.cloud.floatingIps[id];
  if (existing) {
    if (existing.tenant === tenant) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`floating IP ${id} already exists`);
  }
  const pool = poolFor(state, cmd.poolId, 'floating-ip', 'poolId');
  const address = cmd.address === undefined ? nextFreeHost(state, pool) : explicitHost(state, ctx.caller, pool, cmd.address, 'address');
  return cloudAppend(state, tenant, id, { type: 'ipam.FloatingIpAllocated', data: { floatingIpId: id, poolId: pool.id, address, ...(cmd.description ? { description: cmd.description } : {}) } });
}

export function releaseFloatingIp(state: IpamState, cmd: IpamCommand<'floatingip.delete'>, ctx: CommandContext): Decision {
  const f = visible(ctx.caller, 'floating IP', cmd.id, state.cloud.floatingIps[cmd.id]);
  return cloudAppend(state, f.tenant, f.id, { type: 'ipam.FloatingIpReleased', data: { floatingIpId: f.id, address: f.address } });
}

export function allocateApplicationPrefix(state: IpamState, cmd: IpamCommand<'appprefix.create'>, ctx: CommandContext): Decision {
  const tenant = owningTenant(ctx.caller, cmd.tenant);
  const id = createdId(ctx.caller, 'ipam', 'application-prefix');
  const existing = state.cloud.appPrefixes[id];
  if (existing) {
    if (existing.tenant === tenant) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`application prefix ${id} already exists`);
  }
  const pool = poolFor(state, cmd.poolId, 'application-prefix', 'poolId');
  const poolPrefix = parsePrefix(pool.cidr);
  const length = cmd.prefix === undefined ? (cmd.length ?? (pool.ipVersion === 4 ? 32 : 64)) : parsePrefix(cmd.prefix).length;
  checkApplicationLength(pool.ipVersion, length);
  const allocated = Object.values(state.cloud.appPrefixes).filter((a) => a.poolId === pool.id);
  const taken = allocated.map((a) => parsePrefix(a.prefix));
  let prefix: Prefix;
  if (cmd.prefix !== undefined) {
    prefix = parsePrefix(cmd.prefix);
    if (!covers(poolPrefix, prefix)) throw new ValidationError(`${cmd.prefix} is outside pool ${pool.id} (${pool.cidr})`, { field: 'prefix' });
    const clash = allocated.find((a) => overlaps(parsePrefix(a.prefix), prefix));
    if (clash) {
      // Another tenant's prefix is not named: the caller learns only that the range is taken.
      const which = canSee(ctx.caller, clash.tenant) ? `: it overlaps allocated application prefix ${clash.id} (${clash.prefix})` : '';
      throw new AlreadyExistsError(`${cmd.prefix} is not available${which}`, { field: 'prefix' });
    }
  } else {
    const free = nextFreePrefix(poolPrefix, length, taken);
    if (!free) throw new ExhaustedError(`pool ${pool.id} (${pool.cidr}) has no free /${length} left`, { poolId: pool.id });
    prefix = free;
  }
  return cloudAppend(state, tenant, id, {
    type: 'ipam.ApplicationPrefixAllocated',
    data: { prefixId: id, poolId: pool.id, prefix: formatPrefix(prefix) },
  });
}

export function releaseApplicationPrefix(state: IpamState, cmd: IpamCommand<'appprefix.delete'>, ctx: CommandContext): Decision {
  const a = visible(ctx.caller, 'application prefix', cmd.id, state.cloud.appPrefixes[cmd.id]);
  return cloudAppend(state, a.tenant, a.id, { type: 'ipam.ApplicationPrefixReleased', data: { prefixId: a.id, prefix: a.prefix } });
}

/** Appliances announce host routes: /32-/29 in IPv4 (up to 8 addresses), exactly /64 in IPv6. */
function checkApplicationLength(version: 4 | 6, length: number): void {
  const ok = version === 4 ? length >= 29 && length <= 32 : length === 64;
  if (!ok) {
    throw new ValidationError(
      `application prefixes must be ${version === 4 ? '/29 to /32 for IPv4' : '/64 for IPv6'}, not /${length}`,
      { field: 'length' },
    );
  }
}

function poolFor(state: IpamState, poolId: string, purpose: PoolPurpose, field: string): PoolEntry {
  const pool = state.cloud.pools[poolId];
  if (!pool) throw new NotFoundError('pool', poolId);
  if (pool.purpose !== purpose) {
    throw new ValidationError(`pool ${poolId} is a ${pool.purpose} pool; this needs a ${purpose} pool`, { field });
  }
  return pool;
}

/** Usable host addresses of a pool: IPv4 pools of /30 and larger skip the network and broadcast address. */
function usable(prefix: Prefix): { first: bigint; last: bigint } {
  const hostBits = (prefix.version === 4 ? 32 : 128) - prefix.length;
  if (prefix.version === 4 && hostBits >= 2) return { first: prefix.network + 1n, last: lastAddress(prefix) - 1n };
  if (prefix.version === 6 && hostBits >= 1) return { first: prefix.network + 1n, last: lastAddress(prefix) };
  return { first: prefix.network, last: lastAddress(prefix) };
}

function nextFreeHost(state: IpamState, pool: PoolEntry): string {
  const prefix = parsePrefix(pool.cidr);
  const { first, last } = usable(prefix);
  if (BigInt(pool.allocated) <= last - first) {
    for (let v = first; v <= last; v++) {
      const ip = formatAddress({ version: prefix.version, value: v });
      if (state.cloud.publicAllocations[ip] === undefined) return ip;
    }
  }
  throw new ExhaustedError(`pool ${pool.id} (${pool.cidr}) has no free address left`, { poolId: pool.id });
}

function explicitHost(state: IpamState, caller: Caller, pool: PoolEntry, ip: string, field: string): string {
  const prefix = parsePrefix(pool.cidr);
  const value = parseAddress(ip);
  const { first, last } = usable(prefix);
  if (!contains(prefix, value) || value.value < first || value.value > last) {
    throw new ValidationError(`${ip} is not a usable address of pool ${pool.id} (${pool.cidr})`, { field });
  }
  const holder = state.cloud.publicAllocations[ip];
  // Only an admin learns what holds it: for a tenant it may be another tenant's floating IP, whose id is not theirs to know.
  if (holder !== undefined) throw new AlreadyExistsError(`${ip} is not available${caller.admin ? ` (allocated to ${holder})` : ''}`, { field });
  return ip;
}
