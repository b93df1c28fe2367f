/**
 * The translation of networks, subnets and ports: Neutron body → the
 * contract command, service view → Neutron's representation (exactly the
 * attributes of the attribute map), and service errors → Neutron's types.
 */
import { describe, expect, it } from 'vitest';
import { ipamContract, type NetworkView, type PortSecurityView, type PortView, type SubnetView } from '@strata/contracts';
import { AlreadyExistsError, ExhaustedError, IllegalStateError, NotFoundError, RevisionConflictError, StrataError, ValidationError, fromSerialized } from '@strata/errors';
import { NeutronHttpError } from '../errors.js';
import { bool, dictList, int } from './body.js';
import { neutronTime } from './common.js';
import { neutronFault, NOT_FOUND_RULES, INVALID_INPUT_RULE } from './errors.js';
import { createNetworkCommand, NETWORK_ATTRIBUTES, NETWORK_FAULTS, toNeutronNetwork, updateNetworkCommand } from './networks.js';
import { createPortCommand, PORT_ATTRIBUTES, PORT_FAULTS, securityRequest, toNeutronPort, updatePortCommand } from './ports.js';
import { createSubnetCommand, SUBNET_ATTRIBUTES, SUBNET_FAULTS, toNeutronSubnet, updateSubnetCommand } from './subnets.js';

const PROJECT = '0123456789abcdef0123456789abcdef';
const OTHER = 'fedcba9876543210fedcba9876543210';
const NET = '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b';
const SUBNET = '7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const PORT = '0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a';
const SG = '11111111-2222-4333-8444-555555555555';

const network: NetworkView = {
  id: NET, tenant: PROJECT, name: 'web', vni: 5001, mtu: 1450, routed: false, portSecurityEnabled: false, description: 'd', revision: 3,
  createdAt: '2026-12-06T16:00:00.123Z', updatedAt: '2026-12-06T16:05:00.999Z',
};
const subnet: SubnetView = {
  id: SUBNET, tenant: PROJECT, networkId: NET, name: 's', ipVersion: 4, cidr: '10.0.0.0/24', gatewayIp: null,
  allocationPools: [{ start: '10.0.0.2', end: '10.0.0.254' }], enableDhcp: true, description: '', dnsNameservers: ['10.0.0.53'],
  hostRoutes: [{ destination: '192.0.2.0/24', nexthop: '10.0.0.9' }], revision: 1, ipv6RaMode: null, ipv6AddressMode: null,
  createdAt: '2026-12-06T16:00:00.000Z', updatedAt: '2026-12-06T16:00:00.000Z',
};
const port: PortView = {
  id: PORT, tenant: PROJECT, networkId: NET, name: 'p', mac: '02:00:00:00:00:01', fixedIps: [{ subnetId: SUBNET, ip: '10.0.0.5' }], hostId: 'hv1',
  deviceId: 'vm-1', deviceOwner: 'compute:nova', allowedAddressPairs: [{ ipAddress: '10.0.0.100', macAddress: '02:00:00:00:00:01' }], ownedAddresses: [],
  adminStateUp: true, description: '', revision: 2, createdAt: '2026-12-06T16:00:00.000Z', updatedAt: '2026-12-06T16:01:00.000Z',
};
const security: PortSecurityView = { portId: PORT, tenant: PROJECT, groupIds: [SG], portSecurity: true, revision: 1 };

const keys = (o: object) => Object.keys(o).sort();

describe('views → Neutron representations', () => {
  it('a network has exactly its attributes, ACTIVE, up, unshared, internal, with its subnets and the default port security', () => {
    const n = toNeutronNetwork(network, ['b', 'a']);
    expect(keys(n)).toEqual(keys(NETWORK_ATTRIBUTES));
    expect(n).toMatchObject({
      id: NET, name: 'web', tenant_id: PROJECT, project_id: PROJECT, status: 'ACTIVE', admin_state_up: true, shared: false, subnets: ['a', 'b'],
      mtu: 1450, 'router:external': false, port_security_enabled: false, description: 'd', revision_number: 3,
      created_at: '2026-12-06T16:00:00Z', updated_at: '2026-12-06T16:05:00Z',
    });
  });

  it('a subnet has exactly its attributes; no gateway is null, no subnet pool is null', () => {
    const s = toNeutronSubnet(subnet);
    expect(keys(s)).toEqual(keys(SUBNET_ATTRIBUTES));
    expect(s).toMatchObject({
      network_id: NET, ip_version: 4, cidr: '10.0.0.0/24', gateway_ip: null, enable_dhcp: true, subnetpool_id: null,
      allocation_pools: [{ start: '10.0.0.2', end: '10.0.0.254' }], dns_nameservers: ['10.0.0.53'],
      host_routes: [{ destination: '192.0.2.0/24', nexthop: '10.0.0.9' }], ipv6_ra_mode: null, ipv6_address_mode: null,
    });
  });

  it('a port shows its addresses, device, groups, security, status and (to an admin) its binding', () => {
    const p = toNeutronPort(port, security, 'ACTIVE', true);
    expect(keys(p)).toEqual(keys(PORT_ATTRIBUTES));
    expect(p).toMatchObject({
      fixed_ips: [{ subnet_id: SUBNET, ip_address: '10.0.0.5' }], mac_address: '02:00:00:00:00:01', device_id: 'vm-1', device_owner: 'compute:nova',
      security_groups: [SG], port_security_enabled: true, status: 'ACTIVE', admin_state_up: true,
      allowed_address_pairs: [{ ip_address: '10.0.0.100', mac_address: '02:00:00:00:00:01' }],
      'binding:host_id': 'hv1', 'binding:vif_type': 'tap', 'binding:vif_details': { port_filter: true }, 'binding:vnic_type': 'normal', 'binding:profile': {},
    });
  });

  it("a member does not see the binding's host and details (Neutron's policy), only the vnic type", () => {
    const p = toNeutronPort(port, security, 'ACTIVE', false);
    expect(p).not.toHaveProperty('binding:host_id');
    expect(p).not.toHaveProperty('binding:vif_details');
    expect(p).toMatchObject({ 'binding:vnic_type': 'normal' });
  });

  it('an unbound port is vif type unbound with host ""; a port without filtering says port_filter false', () => {
    expect(toNeutronPort({ ...port, hostId: null }, security, 'DOWN', true)).toMatchObject({ 'binding:host_id': '', 'binding:vif_type': 'unbound', 'binding:vif_details': {} });
    const open = { ...security, groupIds: [], portSecurity: false };
    expect(toNeutronPort(port, open, 'ACTIVE', true)).toMatchObject({ security_groups: [], port_security_enabled: false, 'binding:vif_details': { port_filter: false } });
  });

  it('timestamps are UTC to the second', () => {
    expect(neutronTime('2026-12-06T16:07:27.345Z')).toBe('2026-12-06T16:07:27Z');
  });
});

/** The command is what IPAM's own request schema accepts. */
const parses = (op: keyof typeof ipamContract.commands, body: unknown) => ipamContract.commands[op].request.parse(body);

describe('Neutron bodies → contract commands', () => {
  it('network create: name, description, mtu, port security, the project an admin names', () => {
    const cmd = createNetworkCommand({ name: 'n', description: 'x', mtu: 1400, port_security_enabled: false, project_id: OTHER });
    expect(cmd).toEqual({ tenant: OTHER, name: 'n', description: 'x', mtu: 1400, portSecurityEnabled: false });
    parses('network.create', cmd);
    expect(createNetworkCommand({})).toEqual({ name: '', description: '', mtu: undefined, portSecurityEnabled: true });
  });

  it('refuses the values a Strata network cannot have (400, never ignored)', () => {
    expect(() => createNetworkCommand({ admin_state_up: false })).toThrow(/admin_state_up.*always up/);
    expect(() => createNetworkCommand({ shared: true })).toThrow(/shared.*one project/);
    expect(() => createNetworkCommand({ 'router:external': true })).toThrow(/floating-IP pools/);
    expect(createNetworkCommand({ admin_state_up: true, shared: false, 'router:external': false, project_id: PROJECT })).toMatchObject({ tenant: PROJECT });
  });

  it('network update: only what is given', () => {
    const cmd = updateNetworkCommand(NET, { name: 'm', port_security_enabled: 'True' }, 4);
    expect(cmd).toEqual({ id: NET, expectedRevision: 4, name: 'm', description: undefined, mtu: undefined, portSecurityEnabled: true });
    parses('network.update', cmd);
  });

  it('subnet create: pools, gateway null, routes, DNS, IPv6 modes; network_id, ip_version and cidr required; the version must be the CIDR\'s', () => {
    const cmd = createSubnetCommand({
      network_id: NET, ip_version: 6, cidr: '2001:db8::/64', gateway_ip: null, allocation_pools: [{ start: '2001:db8::10', end: '2001:db8::20' }],
      dns_nameservers: ['2001:db8::53'], host_routes: [{ destination: '2001:db8:1::/64', nexthop: '2001:db8::9' }], ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', enable_dhcp: true,
    });
    expect(cmd).toMatchObject({ networkId: NET, cidr: '2001:db8::/64', gatewayIp: null, ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac', enableDhcp: true });
    parses('subnet.create', cmd);
    expect(createSubnetCommand({ network_id: NET, ip_version: 4, cidr: '10.0.0.0/24' })).toMatchObject({ gatewayIp: undefined, allocationPools: undefined, ipv6RaMode: null });
    expect(() => createSubnetCommand({ network_id: NET, cidr: '10.0.0.0/24' })).toThrow(/Required attribute 'ip_version' not specified/);
    expect(() => createSubnetCommand({ network_id: NET, ip_version: 6, cidr: '10.0.0.0/24' })).toThrow(/not an IPv6 CIDR/);
    expect(() => createSubnetCommand({ network_id: NET, ip_version: 5, cidr: '10.0.0.0/24' })).toThrow(/5 is not in \[4, 6\]/);
    expect(() => createSubnetCommand({ network_id: NET, ip_version: 4, cidr: '10.0.0.0/24', subnetpool_id: SG })).toThrow(/subnet pools are not implemented/);
    expect(() => createSubnetCommand({ network_id: NET, ip_version: 4, cidr: '10.0.0.0/24', allocation_pools: [{ start: '10.0.0.2' }] })).toThrow(/'end' is missing/);
  });

  it('subnet update: lists given replace, absent stay', () => {
    const cmd = updateSubnetCommand(SUBNET, { dns_nameservers: [], enable_dhcp: false }, undefined);
    expect(cmd).toMatchObject({ dnsNameservers: [], enableDhcp: false, hostRoutes: undefined, allocationPools: undefined });
    parses('subnet.update', cmd);
  });

  it('port create: addresses by subnet, address or both; pairs; device and owner; binding host; "" is unbound', () => {
    const cmd = createPortCommand({
      network_id: NET, fixed_ips: [{ subnet_id: SUBNET }, { ip_address: '10.0.0.7' }], allowed_address_pairs: [{ ip_address: '10.0.0.0/28' }],
      device_id: 'vm', device_owner: 'compute:nova', 'binding:host_id': 'hv1', 'binding:vnic_type': 'normal', 'binding:profile': {}, mac_address: '02:00:00:00:00:09',
    });
    expect(cmd).toMatchObject({ fixedIps: [{ subnetId: SUBNET }, { ip: '10.0.0.7' }], allowedAddressPairs: [{ ipAddress: '10.0.0.0/28' }], deviceOwner: 'compute:nova', hostId: 'hv1', mac: '02:00:00:00:00:09' });
    parses('port.create', cmd);
    expect(createPortCommand({ network_id: NET, 'binding:host_id': '' })).toMatchObject({ hostId: null, fixedIps: undefined });
    expect(createPortCommand({ network_id: NET, fixed_ips: [] })).toMatchObject({ fixedIps: [] });
    expect(() => createPortCommand({ network_id: NET, 'binding:vnic_type': 'direct' })).toThrow(/'direct' is not supported/);
    expect(() => createPortCommand({ network_id: NET, 'binding:profile': { a: 1 } })).toThrow(/takes no profile/);
    expect(() => createPortCommand({ network_id: NET, fixed_ips: [{}] })).toThrow(/needs 'subnet_id', 'ip_address' or both/);
    expect(() => createPortCommand({ network_id: NET, fixed_ips: [{ ip: '10.0.0.5' }] })).toThrow(/Unrecognized key 'ip'/);
    expect(() => createPortCommand({})).toThrow(/Required attribute 'network_id'/);
  });

  it('port update: the IPAM part (fixed_ips as the new list) and the secgroup part apart', () => {
    const body = { fixed_ips: [{ ip_address: '10.0.0.8' }], device_owner: 'network:dhcp', security_groups: [], port_security_enabled: false };
    const cmd = updatePortCommand(PORT, body, 2);
    expect(cmd).toMatchObject({ id: PORT, expectedRevision: 2, fixedIps: [{ ip: '10.0.0.8' }], deviceOwner: 'network:dhcp', name: undefined });
    parses('port.update', cmd);
    expect(securityRequest(body)).toEqual({ groups: [], portSecurity: false });
    expect(securityRequest({})).toEqual({ groups: undefined, portSecurity: undefined });
  });
});

describe('body attribute types (400 InvalidInput naming the attribute)', () => {
  it('booleans, integers, dictionaries', () => {
    expect(bool({ a: 'FALSE' }, 'a')).toBe(false);
    expect(() => bool({ a: 'yes' }, 'a')).toThrow("Invalid input for a. Reason: 'yes' is not a valid boolean value.");
    expect(int({ mtu: '1400' }, 'mtu')).toBe(1400);
    expect(() => int({ mtu: 1.5 }, 'mtu')).toThrow(/1.5 is not an integer/);
    expect(() => dictList({ l: ['x'] }, 'l', ['a'])).toThrow(/'x' is not a dictionary/);
    const e = (() => { try { bool({ a: 1 }, 'a'); } catch (err) { return err as NeutronHttpError; } return undefined; })();
    expect(e).toMatchObject({ status: 400, type: 'HTTPBadRequest', message: 'Invalid input for a. Reason: 1 is not a valid boolean value.' });
  });
});

describe('service errors → Neutron types', () => {
  const fault = (err: unknown, rules = [...NOT_FOUND_RULES, INVALID_INPUT_RULE]) => neutronFault(err, rules);
  const typeOf = (err: unknown, rules = [...NOT_FOUND_RULES, INVALID_INPUT_RULE]) => {
    const f = fault(err, rules);
    return f instanceof NeutronHttpError ? f.type : undefined;
  };
  const wire = (e: StrataError) => fromSerialized(JSON.parse(JSON.stringify(e.toJSON())));

  it('not found by kind, also after crossing NATS', () => {
    expect(fault(wire(new NotFoundError('network', NET)))).toMatchObject({ status: 404, type: 'NetworkNotFound', message: `Network ${NET} could not be found.` });
    expect(typeOf(wire(new NotFoundError('security group', SG)))).toBe('SecurityGroupNotFound');
    expect(fault(new ValidationError('cidr: must be a CIDR', { field: 'cidr' }))).toMatchObject({ status: 400, type: 'InvalidInput', message: 'Invalid input for operation: cidr: must be a CIDR.' });
  });

  it('the port rules: an address in use, a MAC in use, an exhausted subnet, an unknown host, a bad address', () => {
    const rules = PORT_FAULTS;
    expect(typeOf(wire(new NotFoundError('hypervisor', 'hv9')), rules)).toBe('InvalidInput');
    expect(typeOf(wire(new ValidationError('address 10.0.1.5 is outside subnet', { field: 'fixedIps.0.ip' })), rules)).toBe('InvalidIpForSubnet');
    expect(typeOf(wire(new NotFoundError('port', PORT)), rules)).toBe('PortNotFound');
    expect(fault(wire(new AlreadyExistsError('address 10.0.0.5 …', { field: 'fixedIps.0.ip', ip: '10.0.0.5', subnetId: SUBNET })), rules)).toMatchObject({
      status: 409, type: 'IpAddressAlreadyAllocated', message: `IP address 10.0.0.5 already allocated in subnet ${SUBNET}`,
    });
    expect(fault(wire(new AlreadyExistsError('MAC in use', { field: 'mac', mac: '02:00:00:00:00:01', networkId: NET })), rules)).toMatchObject({
      status: 409, type: 'MacAddressInUse', message: `Unable to complete operation for network ${NET}. The mac address 02:00:00:00:00:01 is in use.`,
    });
    expect(fault(wire(new ExhaustedError('full', { subnetId: SUBNET })), rules)).toMatchObject({ type: 'IpAddressGenerationFailure', status: 409, message: `No more IP addresses available for subnet ${SUBNET}.` });
  });

  it('a stale If-Match stays the core\'s 412 even where a resource maps FAILED_PRECONDITION', () => {
    const rules = NETWORK_FAULTS;
    expect(typeOf(wire(new IllegalStateError('subnet still has 1 address(es) assigned to ports')), SUBNET_FAULTS)).toBe('SubnetInUse');
    expect(fault(wire(new RevisionConflictError('network', NET, 1, 2)), rules)).toBeInstanceOf(StrataError);
    expect(typeOf(wire(new IllegalStateError('network still has 1 port(s)')), rules)).toBe('NetworkInUse');
  });
});
