/** The L3 translations (routers, floating IPs, external networks) as pure functions: Neutron's shapes and refusals. */
import { describe, expect, it } from 'vitest';
import { ErrorCode, NotFoundError, RevisionConflictError, StrataError } from '@strata/errors';
import { NeutronHttpError } from '../errors.js';
import type { FloatingIpAssociationView, FloatingIpView, PoolView, RouterGatewayView, RouterView } from '@strata/contracts';
import type { NeutronContext } from '../resource.js';
import { externalSubnetId, refuseExternalNetwork, toExternalNetwork, toExternalSubnet } from './external-networks.js';
import { associationError, floatingIpStatus, floatingips, routerByNetwork, toNeutronFloatingIp } from './floatingips.js';
import { neutronTime, withNeutronTypes } from './l3-common.js';
import { changedRoutes, extraroutesBody, interfaceInfo, parseGatewayInfo, routers, toNeutronRouter } from './routers.js';

const ROUTER = '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b';
const POOL = '11111111-1111-4111-8111-111111111111';
const NET = '22222222-2222-4222-8222-222222222222';
const SUBNET = '33333333-3333-4333-8333-333333333333';
const PORT = '44444444-4444-4444-8444-444444444444';
const FIP = '55555555-5555-4555-8555-555555555555';
const AT = '2026-12-06T16:07:28.123Z';

const router: RouterView = {
  id: ROUTER,
  tenant: 'proj-a',
  name: 'r1',
  interfaces: [{ subnetId: SUBNET, networkId: NET }],
  description: 'edge',
  routes: [{ destination: '192.0.2.0/24', nexthop: '10.0.0.9' }],
  revision: 4,
  createdAt: AT,
};
const gateway = (on: boolean, externalNetworkId: string | null = on ? POOL : null): RouterGatewayView => ({ routerId: ROUTER, tenant: 'proj-a', externalGateway: on, externalNetworkId });

/** The Neutron error a call threw: HTTP status, NeutronError type, message. */
function refusal(fn: () => unknown): { status: number; type: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof NeutronHttpError)) throw e;
    return { status: e.status, type: e.type, message: e.message };
  }
  throw new Error('expected a refusal');
}

describe('routers', () => {
  it('shows exactly the declared attributes, with the gateway as external_gateway_info', () => {
    const shown = toNeutronRouter(router, gateway(true));
    expect(Object.keys(shown).sort()).toEqual(Object.keys(routers.attributes).sort());
    expect(shown).toEqual({
      id: ROUTER,
      name: 'r1',
      description: 'edge',
      tenant_id: 'proj-a',
      project_id: 'proj-a',
      status: 'ACTIVE',
      admin_state_up: true,
      external_gateway_info: { network_id: POOL, enable_snat: true, external_fixed_ips: [] },
      routes: [{ destination: '192.0.2.0/24', nexthop: '10.0.0.9' }],
      revision_number: 4,
      created_at: '2026-12-06T16:07:28Z',
      updated_at: '2026-12-06T16:07:28Z',
    });
    expect(toNeutronRouter(router, gateway(false)).external_gateway_info).toBeNull();
  });

  it('reads external_gateway_info: null or {} removes it; only what Strata does is accepted, anything else is 400 saying why', () => {
    expect(parseGatewayInfo(null)).toBeNull();
    expect(parseGatewayInfo({})).toBeNull();
    expect(parseGatewayInfo({ network_id: POOL })).toEqual({ networkId: POOL });
    expect(parseGatewayInfo({ network_id: POOL, enable_snat: true, external_fixed_ips: [] })).toEqual({ networkId: POOL });
    expect(refusal(() => parseGatewayInfo({ network_id: POOL, enable_snat: false }))).toMatchObject({ status: 400, type: 'BadRequest', message: /^Bad router request: enable_snat false is not supported/ });
    expect(refusal(() => parseGatewayInfo({ network_id: POOL, external_fixed_ips: [{ ip_address: '203.0.113.9' }] })).message).toMatch(/has no address of its own/);
    expect(refusal(() => parseGatewayInfo({ network_id: POOL, qos_policy_id: 'x' }))).toMatchObject({ status: 400, type: 'InvalidInput', message: /Provided keys: network_id, qos_policy_id/ });
    expect(refusal(() => parseGatewayInfo({ enable_snat: true })).message).toMatch(/Expected keys: \{'network_id'\}/);
    expect(refusal(() => parseGatewayInfo('public')).message).toMatch(/is not a dictionary or None/);
    expect(refusal(() => parseGatewayInfo({ network_id: 7 })).message).toMatch(/network_id/);
  });

  it("answers an interface change with Neutron's body; a Strata interface is no port", () => {
    expect(interfaceInfo(router, SUBNET, NET)).toEqual({ id: ROUTER, tenant_id: 'proj-a', project_id: 'proj-a', port_id: null, subnet_id: SUBNET, subnet_ids: [SUBNET], network_id: NET });
  });

  it('adds and removes extra routes without naming the others (extraroute-atomic)', () => {
    const a = { destination: '192.0.2.0/24', nexthop: '10.0.0.9' };
    const b = { destination: '198.51.100.0/24', nexthop: '10.0.0.10' };
    expect(changedRoutes([a], [b, a, b], 'add')).toEqual([a, b]);
    expect(changedRoutes([a, b], [a, { destination: '0.0.0.0/0', nexthop: '10.0.0.1' }], 'remove')).toEqual([b]);
    expect(extraroutesBody({ router: { routes: [a] } })).toEqual([a]);
    expect(refusal(() => extraroutesBody({ router: { routes: 'x' } }))).toMatchObject({ status: 400, type: 'InvalidRoutes' });
    expect(refusal(() => extraroutesBody({ router: { routes: [{ destination: '192.0.2.0/24' }] } })).type).toBe('InvalidRoutes');
    expect(refusal(() => extraroutesBody({ routes: [a] })).message).toMatch(/Required attribute 'router'/);
  });
});

describe('floating IPs', () => {
  const fip: FloatingIpView = { id: FIP, tenant: 'proj-a', poolId: POOL, address: '203.0.113.7', description: 'web', createdAt: AT };
  const assoc = (portId: string | null): FloatingIpAssociationView => ({
    floatingIpId: FIP,
    tenant: 'proj-a',
    address: '203.0.113.7',
    portId,
    fixedIp: portId && '10.0.0.5',
    networkId: portId && NET,
    hostId: portId && 'hv1',
    revision: portId ? 2 : 3,
  });

  it('shows exactly the declared attributes: IPAM’s address, NAT’s association, the router of the port’s network', () => {
    const shown = toNeutronFloatingIp(fip, assoc(PORT), ROUTER, 'ACTIVE');
    expect(Object.keys(shown).sort()).toEqual(Object.keys(floatingips.attributes).sort());
    expect(shown).toEqual({
      id: FIP,
      tenant_id: 'proj-a',
      project_id: 'proj-a',
      floating_ip_address: '203.0.113.7',
      floating_network_id: POOL,
      router_id: ROUTER,
      port_id: PORT,
      fixed_ip_address: '10.0.0.5',
      status: 'ACTIVE',
      description: 'web',
      revision_number: 2,
      created_at: '2026-12-06T16:07:28Z',
      updated_at: '2026-12-06T16:07:28Z',
    });
    expect(toNeutronFloatingIp(fip, assoc(null), ROUTER, undefined)).toMatchObject({ port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN', revision_number: 3 });
    expect(toNeutronFloatingIp(fip, undefined, null, undefined)).toMatchObject({ port_id: null, status: 'DOWN', revision_number: 1 });
  });

  it('is ACTIVE only when associated and the port is realised', () => {
    expect(floatingIpStatus(false, 'ACTIVE')).toBe('DOWN');
    expect(floatingIpStatus(true, 'ACTIVE')).toBe('ACTIVE');
    expect(floatingIpStatus(true, 'BUILD')).toBe('DOWN');
    expect(floatingIpStatus(true, undefined)).toBe('DOWN');
    expect(floatingIpStatus(true, 'ERROR')).toBe('ERROR');
  });

  it('finds the router a network is joined to', () => {
    expect(routerByNetwork([router]).get(NET)).toBe(ROUTER);
    expect(routerByNetwork([router]).get(PORT)).toBeUndefined();
  });

  it("types NAT's refusals as Neutron does: a taken fixed IP 409, a port without IPv4 400, a stale revision left for 412", () => {
    const typed = (e: StrataError) => {
      const out = associationError(e);
      return out instanceof NeutronHttpError ? { status: out.status, type: out.type, message: out.message } : out;
    };
    expect(typed(new StrataError(ErrorCode.FailedPrecondition, 'fixed IP … already has floating IP', { floatingIpId: FIP }))).toEqual({ status: 409, type: 'FloatingIPPortAlreadyAssociated', message: 'fixed IP … already has floating IP' });
    expect(typed(new StrataError(ErrorCode.FailedPrecondition, 'already associated with port', { portId: PORT }))).toMatchObject({ status: 409, type: 'FloatingIPPortAlreadyAssociated' });
    expect(typed(new StrataError(ErrorCode.FailedPrecondition, 'port has no IPv4 address'))).toMatchObject({ status: 400, type: 'BadRequest' });
    const stale = new RevisionConflictError('floating IP', FIP, 1, 2);
    expect(typed(stale)).toBe(stale);
    expect(typed(new StrataError(ErrorCode.InvalidArgument, 'fixedIp is not the port’s', { field: 'fixedIp' }))).toMatchObject({ status: 400, type: 'BadRequest' });
  });
});

describe('external networks', () => {
  const pool: PoolView = { id: POOL, name: 'public', cidr: '203.0.113.0/24', purpose: 'floating-ip', ipVersion: 4, allocated: 3, createdAt: AT };

  it('presents a floating-IP pool as a shared external network with one read-only subnet', () => {
    expect(toExternalNetwork(pool)).toMatchObject({ id: POOL, name: 'public', 'router:external': true, shared: true, status: 'ACTIVE', subnets: [externalSubnetId(POOL)] });
    expect(toExternalSubnet(pool)).toMatchObject({
      id: externalSubnetId(POOL),
      network_id: POOL,
      cidr: '203.0.113.0/24',
      ip_version: 4,
      gateway_ip: null,
      enable_dhcp: false,
      allocation_pools: [{ start: '203.0.113.1', end: '203.0.113.254' }],
    });
    expect(toExternalSubnet({ ...pool, cidr: '198.51.100.8/31' }).allocation_pools).toEqual([{ start: '198.51.100.8', end: '198.51.100.9' }]);
    expect(toExternalSubnet({ ...pool, cidr: '2001:db8:f::/126', ipVersion: 6 }).allocation_pools).toEqual([{ start: '2001:db8:f::1', end: '2001:db8:f::3' }]);
  });

  it("gives the subnet a stable UUID of its own", () => {
    expect(externalSubnetId(POOL)).toBe(externalSubnetId(POOL));
    expect(externalSubnetId(POOL)).not.toBe(externalSubnetId(NET));
    expect(externalSubnetId(POOL)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('refuses to make one through Neutron: 403 for a member, 400 saying how for an admin', () => {
    const ctx = (role: 'admin' | 'member') => ({ identity: { role } }) as unknown as NeutronContext;
    expect(() => refuseExternalNetwork(ctx('member'), { name: 'x' })).not.toThrow();
    expect(() => refuseExternalNetwork(ctx('admin'), { 'router:external': false })).not.toThrow();
    expect(refusal(() => refuseExternalNetwork(ctx('member'), { 'router:external': true }))).toMatchObject({ status: 403, type: 'PolicyNotAuthorized' });
    expect(refusal(() => refuseExternalNetwork(ctx('admin'), { 'router:external': true }))).toMatchObject({
      status: 400,
      message: /strata pool create --name NAME --cidr CIDR --purpose floating-ip/,
    });
  });
});

describe('shared', () => {
  it("names a NotFound by the kind of resource the service named, and keeps the service's message", async () => {
    const typed = await withNeutronTypes(Promise.reject(new NotFoundError('router', ROUTER))).catch((e: NeutronHttpError) => e);
    expect(typed).toMatchObject({ status: 404, type: 'RouterNotFound', message: `Router ${ROUTER} could not be found` });
    const fipGone = await withNeutronTypes(Promise.reject(new NotFoundError('floating IP', FIP))).catch((e: NeutronHttpError) => e);
    expect(fipGone).toMatchObject({ status: 404, type: 'FloatingIPNotFound' });
    // Anything it does not know passes unchanged, for the core's generic mapping.
    const other = new StrataError(ErrorCode.Unavailable, 'ipam did not answer');
    expect(await withNeutronTypes(Promise.reject(other)).catch((e: unknown) => e)).toBe(other);
  });

  it("formats Neutron's times to the second", () => {
    expect(neutronTime(AT)).toBe('2026-12-06T16:07:28Z');
    expect(neutronTime('2026-12-06T16:07:28Z')).toBe('2026-12-06T16:07:28Z');
  });
});
