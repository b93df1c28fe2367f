/**
 * Neutron ports: the port is IPAM's (addresses, MAC, device, owner, pairs,
 * admin state, binding), its filtering secgroup's (security groups, port
 * security), its status the status service's. A create or update is IPAM's
 * command first (it decides the revision and `If-Match`), then secgroup's;
 * a create whose secgroup step fails deletes the port again, so a refused
 * create leaves nothing behind.
 */
import { ipamContract, type PortSecurityView, type PortView } from '@strata/contracts';
import { ErrorCode } from '@strata/errors';
import { portStatuses } from '@strata/runtime';
import type { Json, NeutronContext, ResourceDefinition } from '../resource.js';
import { bool, dict, dictList, has, str, strList } from './body.js';
import { allPages, hintsFor, ownerOf, singleFilter, standardAttributes, STANDARD_ATTRIBUTES } from './common.js';
import { httpBadRequest, NeutronHttpError } from '../errors.js';
import { INVALID_INPUT_RULE, invalidInput, NOT_FOUND_RULES, text, withFaults, type FaultRule } from './errors.js';
import { checkProject } from './subnets.js';
import { joinDefaultGroup, securityOf, securityViews, setPortSecurity } from './port-security.js';

export const PORT_ATTRIBUTES = {
  ...STANDARD_ATTRIBUTES,
  name: { post: true, put: true },
  network_id: { post: true, put: false, required: true },
  admin_state_up: { post: true, put: true, type: 'boolean' },
  mac_address: { post: true, put: false },
  fixed_ips: { post: true, put: true, type: 'kvp-list' },
  device_id: { post: true, put: true },
  device_owner: { post: true, put: true },
  status: { post: false, put: false },
  security_groups: { post: true, put: true, type: 'list' },
  port_security_enabled: { post: true, put: true, type: 'boolean' },
  allowed_address_pairs: { post: true, put: true, type: 'kvp-list' },
  'binding:host_id': { post: true, put: true, adminOnly: true },
  'binding:vif_type': { post: false, put: false },
  'binding:vif_details': { post: false, put: false, type: 'object' },
  'binding:vnic_type': { post: true, put: true },
  'binding:profile': { post: true, put: true, adminOnly: true, type: 'object' },
} as const;

/** The binding attributes only an admin sees (Neutron's policy); `binding:vnic_type` the owner sees too. */
const ADMIN_BINDING = ['binding:host_id', 'binding:vif_type', 'binding:vif_details', 'binding:profile'] as const;

export const PORT_FAULTS: readonly FaultRule[] = [
  { code: ErrorCode.AlreadyExists, field: 'fixedIps', type: 'IpAddressAlreadyAllocated', status: 409, message: (e) => `IP address ${text(e, 'ip')} already allocated in subnet ${text(e, 'subnetId')}` },
  {
    code: ErrorCode.AlreadyExists,
    field: 'mac',
    type: 'MacAddressInUse',
    status: 409,
    message: (e) => `Unable to complete operation for network ${text(e, 'networkId')}. The mac address ${text(e, 'mac')} is in use.`,
  },
  { code: ErrorCode.ResourceExhausted, type: 'IpAddressGenerationFailure', status: 409, message: (e) => `No more IP addresses available for subnet ${text(e, 'subnetId')}.` },
  { code: ErrorCode.InvalidArgument, field: 'fixedIps', type: 'InvalidIpForSubnet', status: 400 },
  // binding:host_id names a host that is not a registered hypervisor.
  { code: ErrorCode.NotFound, kind: 'hypervisor', type: 'InvalidInput', status: 400 },
  ...NOT_FOUND_RULES,
  INVALID_INPUT_RULE,
];

/**
 * How a Strata port is bound: the agent attaches the VM's tap device to the
 * network's bridge and filters it (security groups and anti-spoofing in
 * nftables), so Nova plugs a plain tap (`vif_type` tap, as Calico's).
 */
function binding(hostId: string | null, security: PortSecurityView | undefined): Json {
  const filtered = security === undefined || security.portSecurity || security.groupIds.length > 0;
  return {
    'binding:host_id': hostId ?? '',
    'binding:vif_type': hostId === null ? 'unbound' : 'tap',
    'binding:vif_details': hostId === null ? {} : { port_filter: filtered },
    'binding:vnic_type': 'normal',
    'binding:profile': {},
  };
}

/**
 * A port as Neutron shows it. `security`: secgroup's view of it (undefined
 * only if secgroup does not know the port yet: no groups, security on);
 * `status`: the status service's; `admin`: whether the caller sees the
 * binding details.
 */
export function toNeutronPort(v: PortView, security: PortSecurityView | undefined, status: string, admin: boolean): Json {
  const bound = binding(v.hostId, security);
  if (!admin) for (const key of ADMIN_BINDING) delete bound[key];
  return {
    id: v.id,
    name: v.name,
    ...ownerOf(v.tenant),
    network_id: v.networkId,
    admin_state_up: v.adminStateUp,
    mac_address: v.mac,
    fixed_ips: v.fixedIps.map((f) => ({ subnet_id: f.subnetId, ip_address: f.ip })),
    device_id: v.deviceId,
    device_owner: v.deviceOwner,
    status,
    security_groups: [...(security?.groupIds ?? [])],
    port_security_enabled: security?.portSecurity ?? true,
    allowed_address_pairs: v.allowedAddressPairs.map((p) => ({ ip_address: p.ipAddress, mac_address: p.macAddress })),
    ...bound,
    ...standardAttributes(v),
  };
}

const fixedIps = (body: Json) =>
  dictList(body, 'fixed_ips', ['subnet_id', 'ip_address'])?.map((f) => {
    if (f.subnet_id === undefined && f.ip_address === undefined) throw invalidInput('fixed_ips', "each entry needs 'subnet_id', 'ip_address' or both");
    return { ...(f.subnet_id === undefined ? {} : { subnetId: f.subnet_id }), ...(f.ip_address === undefined ? {} : { ip: f.ip_address }) };
  });

const pairs = (body: Json) =>
  dictList(body, 'allowed_address_pairs', ['ip_address', 'mac_address'], ['ip_address'])?.map((p) => ({
    ipAddress: p.ip_address!,
    ...(p.mac_address === undefined ? {} : { macAddress: p.mac_address }),
  }));

/** `binding:host_id`: '' or null unbinds (undefined: not given). */
function hostOf(body: Json): string | null | undefined {
  if (!has(body, 'binding:host_id')) return undefined;
  if (body['binding:host_id'] === null) return null;
  const host = str(body, 'binding:host_id')!;
  return host === '' ? null : host;
}

/** The binding attributes a Strata port has one value of: other values are refused, never ignored. */
function fixedBinding(body: Json): void {
  const vnic = str(body, 'binding:vnic_type');
  if (vnic !== undefined && vnic !== 'normal') throw invalidInput('binding:vnic_type', `'${vnic}' is not supported: Strata ports are virtual NICs (normal)`);
  const profile = dict(body, 'binding:profile');
  if (profile !== undefined && Object.keys(profile).length > 0) throw invalidInput('binding:profile', 'Strata binds by binding:host_id alone and takes no profile');
}

/** What a port create or update asks of secgroup: the groups (undefined: not said) and the port security (undefined: not said). */
export interface SecurityRequest {
  groups: string[] | undefined;
  portSecurity: boolean | undefined;
}

export function securityRequest(body: Json): SecurityRequest {
  return { groups: strList(body, 'security_groups'), portSecurity: bool(body, 'port_security_enabled') };
}

export function createPortCommand(body: Json) {
  if (!has(body, 'network_id')) {
    throw httpBadRequest("Failed to parse request. Required attribute 'network_id' not specified");
  }
  fixedBinding(body);
  return {
    networkId: str(body, 'network_id')!,
    name: str(body, 'name') ?? '',
    description: str(body, 'description') ?? '',
    adminStateUp: bool(body, 'admin_state_up') ?? true,
    mac: str(body, 'mac_address'),
    fixedIps: fixedIps(body),
    deviceId: str(body, 'device_id') ?? '',
    deviceOwner: str(body, 'device_owner') ?? '',
    allowedAddressPairs: pairs(body),
    hostId: hostOf(body) ?? null,
  };
}

export function updatePortCommand(id: string, body: Json, expectedRevision: number | undefined) {
  fixedBinding(body);
  return {
    id,
    expectedRevision,
    name: str(body, 'name'),
    description: str(body, 'description'),
    adminStateUp: bool(body, 'admin_state_up'),
    fixedIps: fixedIps(body),
    deviceId: str(body, 'device_id'),
    deviceOwner: str(body, 'device_owner'),
    allowedAddressPairs: pairs(body),
  };
}

/** The ports with their status and security: one status request per page, secgroup's views of all of them. */
async function shownAll(ctx: NeutronContext, views: readonly PortView[]): Promise<Json[]> {
  const ids = views.map((v) => v.id);
  const [statuses, security] = await Promise.all([portStatuses(ctx.clients.status, ids, ctx.meta, ctx.logger), securityViews(ctx, ids)]);
  const admin = ctx.identity.role === 'admin';
  return views.map((v) => toNeutronPort(v, security.get(v.id), statuses.get(v.id)?.status ?? 'UNKNOWN', admin));
}

async function shownOne(ctx: NeutronContext, id: string): Promise<Json> {
  return (await shownAll(ctx, [await ctx.clients.ipam.query('port.get', { id }, ctx.meta)]))[0]!;
}

async function createPort(ctx: NeutronContext, body: Json): Promise<Json> {
  const cmd = createPortCommand(body);
  const wanted = securityRequest(body);
  const network = await ctx.clients.ipam.query('network.get', { id: cmd.networkId }, ctx.meta);
  await checkProject(ctx, body, network.id);
  // A port's security defaults to its network's (Neutron's rule); groups need it on and an address.
  const portSecurity = wanted.portSecurity ?? network.portSecurityEnabled;
  const explicit = wanted.groups ?? [];
  if (explicit.length > 0 && (!portSecurity || cmd.fixedIps?.length === 0)) throw securityNeedsIp();
  await Promise.all(explicit.map((g) => ctx.clients.secgroup.query('group.get', { id: g }, ctx.meta)));
  const port = await ctx.clients.ipam.command('port.create', cmd, ctx.meta);
  try {
    // Without groups named and with security on, the port is in its project's default group.
    const groups = wanted.groups ?? (portSecurity && port.fixedIps.length > 0 ? undefined : []);
    if (groups === undefined) await joinDefaultGroup(ctx, port.id, port.tenant);
    else await setPortSecurity(ctx, port.id, { groups, portSecurity: portSecurity ? undefined : false });
  } catch (err) {
    await ctx.clients.ipam.command('port.delete', { id: port.id }, ctx.step('undo-port-create')).catch((e: unknown) => ctx.logger.warn({ err: e, port: port.id }, 'could not delete the port whose security could not be set'));
    throw err;
  }
  return shownOne(ctx, port.id);
}

async function updatePort(ctx: NeutronContext, id: string, body: Json, expectedRevision: number | undefined): Promise<Json> {
  const cmd = updatePortCommand(id, body, expectedRevision);
  const wanted = securityRequest(body);
  const host = hostOf(body);
  if (wanted.groups !== undefined || wanted.portSecurity !== undefined) {
    const current = await securityOf(ctx, id);
    const groups = wanted.groups ?? current.groupIds;
    if ((wanted.portSecurity ?? current.portSecurity) === false && groups.length > 0) {
      // Naming groups with security off is invalid input; turning security off while the port has groups is a conflict (Neutron's two answers).
      throw wanted.groups !== undefined && wanted.groups.length > 0 ? securityNeedsIp() : portHasGroups(id);
    }
    await Promise.all((wanted.groups ?? []).map((g) => ctx.clients.secgroup.query('group.get', { id: g }, ctx.meta)));
  }
  // Always IPAM's update first, even with nothing of IPAM's in it: it checks If-Match against the port's revision.
  await ctx.clients.ipam.command('port.update', cmd, ctx.meta);
  if (host !== undefined) await ctx.clients.ipam.command('port.bind', { id, hostId: host }, ctx.step('port-bind'));
  await setPortSecurity(ctx, id, wanted);
  return shownOne(ctx, id);
}

const securityNeedsIp = (): NeutronHttpError =>
  new NeutronHttpError(400, 'PortSecurityAndIPRequiredForSecurityGroups', 'Port security must be enabled and port must have an IP address in order to use security groups.');

const portHasGroups = (id: string): NeutronHttpError =>
  new NeutronHttpError(409, 'PortSecurityPortHasSecurityGroup', `Port ${id} has security group associated. Cannot disable port security or IP address until security group is removed`);

export function portsResource(): ResourceDefinition {
  return {
    path: 'ports',
    collection: 'ports',
    member: 'port',
    notFound: 'PortNotFound',
    attributes: PORT_ATTRIBUTES,
    async list(ctx, filters) {
      // A member does not see bindings: filtering on them matches nothing (the core's filtering), so no hint.
      const hostId = ctx.identity.role === 'admin' ? singleFilter(filters, 'binding:host_id') : undefined;
      const hint = hintsFor(ipamContract.queries['port.list'].request, { networkId: singleFilter(filters, 'network_id'), hostId });
      const views = await withFaults(PORT_FAULTS, () => allPages((p) => ctx.clients.ipam.query('port.list', { ...p, ...hint }, ctx.meta)));
      return shownAll(ctx, views);
    },
    show: (ctx, id) => withFaults(PORT_FAULTS, () => shownOne(ctx, id)),
    create: (ctx, body) => withFaults(PORT_FAULTS, () => createPort(ctx, body)),
    update: (ctx, id, body, expectedRevision) => withFaults(PORT_FAULTS, () => updatePort(ctx, id, body, expectedRevision)),
    async delete(ctx, id) {
      await withFaults(PORT_FAULTS, () => ctx.clients.ipam.command('port.delete', { id }, ctx.meta));
    },
  };
}
