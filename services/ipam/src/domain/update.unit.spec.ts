/**
 * Updates of networks, subnets, ports and routers: revisions, "only real
 * changes are written", the checks creation makes, and the fields that
 * never change.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ZodError } from 'zod';
import { ErrorCode, RevisionConflictError, type StrataError } from '@strata/errors';
import { errorOf } from '@strata/service-kit/testing';
import { getNetwork, getPort, getRouter, getSubnet } from './queries.js';
import { admin, tenantA, tenantB, World } from './test/given.js';

function expectError(fn: () => unknown, code: ErrorCode, message: RegExp): StrataError {
  const e = errorOf(fn);
  expect({ code: e.code, message: e.message }).toMatchObject({ code, message: expect.stringMatching(message) });
  return e;
}

function expectSchemaError(fn: () => unknown, path: string, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ZodError);
    const issue = (e as ZodError).issues.find((i) => i.path.join('.') === path);
    expect(issue?.message).toMatch(message);
    return;
  }
  throw new Error('expected a schema error, got a decision');
}

/** A tenant-A network with a /24 subnet, two ports (one on .10), a router joining the subnet. */
function world() {
  const w = new World();
  const { networkId, subnetId } = w.networkWithSubnet('10.0.0.0/24');
  const port = w.run('port.create', { networkId, fixedIps: [{ ip: '10.0.0.10' }] }, tenantA).resourceId;
  const other = w.run('port.create', { networkId, fixedIps: [{ ip: '10.0.0.20' }] }, tenantA).resourceId;
  const router = w.run('router.create', { name: 'r' }, tenantA).resourceId;
  w.run('router.addInterface', { id: router, subnetId }, tenantA);
  return { w, networkId, subnetId, port, other, router };
}

const view = {
  network: (w: World, id: string) => getNetwork(w.state, admin, { id }),
  subnet: (w: World, id: string) => getSubnet(w.state, admin, { id }),
  port: (w: World, id: string) => getPort(w.state, admin, { id }),
  router: (w: World, id: string) => getRouter(w.state, admin, { id }),
};

describe('revisions', () => {
  it('start at 1 and count every event that changed the resource', () => {
    const { w, networkId, subnetId, port, router } = world();
    expect(view.network(w, networkId)).toMatchObject({ revision: 1, description: '' });
    expect(view.subnet(w, subnetId)).toMatchObject({ revision: 1, description: '', dnsNameservers: [], hostRoutes: [] });
    expect(view.port(w, port)).toMatchObject({ revision: 1, description: '', adminStateUp: true });
    // created, then joined a subnet
    expect(view.router(w, router)).toMatchObject({ revision: 2, description: '', routes: [] });
    w.run('port.update', { id: port, name: 'web', expectedRevision: 1 }, tenantA);
    w.run('port.update', { id: port, description: 'the web server', adminStateUp: false, expectedRevision: 2 }, tenantA);
    expect(view.port(w, port)).toMatchObject({ name: 'web', description: 'the web server', adminStateUp: false, revision: 3 });
  });

  it('refuse a stale expected revision, whether or not the update would change anything', () => {
    const { w, networkId, subnetId, port, router } = world();
    w.run('port.update', { id: port, name: 'web' }, tenantA);
    const e = expectError(() => w.decide('port.update', { id: port, name: 'db', expectedRevision: 1 }, tenantA), ErrorCode.FailedPrecondition, /port .* is at revision 2, not the expected 1/);
    expect(e).toBeInstanceOf(RevisionConflictError);
    expectError(() => w.decide('port.update', { id: port, name: 'web', expectedRevision: 1 }, tenantA), ErrorCode.FailedPrecondition, /at revision 2/);
    expectError(() => w.decide('network.update', { id: networkId, name: 'x', expectedRevision: 2 }, tenantA), ErrorCode.FailedPrecondition, /network .* at revision 1/);
    expectError(() => w.decide('subnet.update', { id: subnetId, name: 'x', expectedRevision: 5 }, tenantA), ErrorCode.FailedPrecondition, /subnet .* at revision 1/);
    expectError(() => w.decide('router.update', { id: router, name: 'x', expectedRevision: 1 }, tenantA), ErrorCode.FailedPrecondition, /router .* at revision 2/);
  });

  it('property: an update naming any revision but the current one is refused', () => {
    const { w, port } = world();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }).filter((r) => r !== 1), fc.string({ maxLength: 20 }), (expected, name) => {
        expect(() => w.decide('port.update', { id: port, name, expectedRevision: expected }, tenantA)).toThrow(RevisionConflictError);
      }),
    );
  });
});

describe('only real changes are written', () => {
  it('property: an update with the current values (any subset of fields, with or without the current revision) writes nothing', () => {
    const { w, networkId, subnetId, port, router } = world();
    w.run('subnet.update', { id: subnetId, dnsNameservers: ['10.0.0.2', '192.0.2.53'], hostRoutes: [{ destination: '192.0.2.0/24', nexthop: '10.0.0.254' }] }, tenantA);
    w.run('router.update', { id: router, routes: [{ destination: '198.51.100.0/24', nexthop: '10.0.0.20' }] }, tenantA);
    w.run('port.update', { id: port, allowedAddressPairs: [{ ipAddress: '10.0.0.100' }] }, tenantA);
    const pick = <T extends object>(o: T) => fc.subarray(Object.keys(o) as (keyof T)[]).map((keys) => Object.fromEntries(keys.map((k) => [k, o[k]])) as Partial<T>);
    const withRevision = (revision: number) => fc.boolean().map((b) => (b ? { expectedRevision: revision } : {}));
    const n = view.network(w, networkId);
    const s = view.subnet(w, subnetId);
    const p = view.port(w, port);
    const r = view.router(w, router);
    fc.assert(
      fc.property(
        pick({ name: n.name, description: n.description, mtu: n.mtu }),
        pick({ name: s.name, description: s.description, allocationPools: s.allocationPools, enableDhcp: s.enableDhcp, dnsNameservers: s.dnsNameservers, hostRoutes: s.hostRoutes }),
        pick({ name: p.name, description: p.description, adminStateUp: p.adminStateUp, deviceId: p.deviceId, fixedIps: p.fixedIps, allowedAddressPairs: p.allowedAddressPairs }),
        pick({ name: r.name, description: r.description, routes: r.routes }),
        withRevision(n.revision),
        withRevision(p.revision),
        (nf, sf, pf, rf, nr, pr) => {
          expect(w.decide('network.update', { id: networkId, ...nf, ...nr }, tenantA)).toEqual({ kind: 'done', resourceId: networkId });
          expect(w.decide('subnet.update', { id: subnetId, ...sf }, tenantA)).toEqual({ kind: 'done', resourceId: subnetId });
          expect(w.decide('port.update', { id: port, ...pf, ...pr }, tenantA)).toEqual({ kind: 'done', resourceId: port });
          expect(w.decide('router.update', { id: router, ...rf }, tenantA)).toEqual({ kind: 'done', resourceId: router });
        },
      ),
    );
  });

  it('property: an update of names and descriptions carries exactly the fields that changed', () => {
    const { w, port } = world();
    const text = fc.oneof(fc.constant(''), fc.string({ maxLength: 12 }));
    fc.assert(
      fc.property(fc.option(text, { nil: undefined }), fc.option(text, { nil: undefined }), (name, description) => {
        const before = view.port(w, port);
        const want = {
          ...(name !== undefined && name !== before.name ? { name } : {}),
          ...(description !== undefined && description !== before.description ? { description } : {}),
        };
        const d = w.decide('port.update', { id: port, ...(name !== undefined ? { name } : {}), ...(description !== undefined ? { description } : {}) }, tenantA);
        if (Object.keys(want).length === 0) {
          expect(d.kind).toBe('done');
          return;
        }
        expect(d).toMatchObject({ kind: 'append', event: { type: 'ipam.PortUpdated', data: { portId: port, ...want } } });
        if (d.kind === 'append') expect(Object.keys(d.event.data).sort()).toEqual(['portId', ...Object.keys(want)].sort());
        if (d.kind === 'append') w.apply(d);
        expect(view.port(w, port).revision).toBe(before.revision + 1);
      }),
      { numRuns: 60 },
    );
  });
});

describe('fields that never change', () => {
  it('are refused by name, even with the current value', () => {
    const { w, networkId, subnetId, port, router } = world();
    expectSchemaError(() => w.decide('port.update', { id: port, networkId } as never, tenantA), 'networkId', /cannot be changed: a port lives on its network/);
    expectSchemaError(() => w.decide('port.update', { id: port, mac: '02:00:00:00:00:01' } as never, tenantA), 'mac', /cannot be changed/);
    expectSchemaError(() => w.decide('port.update', { id: port, tenant: 'tenant-b' } as never, tenantA), 'tenant', /cannot be changed/);
    expectSchemaError(() => w.decide('subnet.update', { id: subnetId, cidr: '10.0.0.0/24' } as never, tenantA), 'cidr', /cannot be changed/);
    expectSchemaError(() => w.decide('subnet.update', { id: subnetId, ipVersion: 6 } as never, tenantA), 'ipVersion', /cannot be changed/);
    expectSchemaError(() => w.decide('subnet.update', { id: subnetId, networkId } as never, tenantA), 'networkId', /cannot be changed/);
    expectSchemaError(() => w.decide('network.update', { id: networkId, tenant: 'tenant-a' } as never, tenantA), 'tenant', /cannot be changed/);
    expectSchemaError(() => w.decide('router.update', { id: router, tenant: 'tenant-a' } as never, tenantA), 'tenant', /cannot be changed/);
  });

  it('another tenant cannot update (not found, as everywhere)', () => {
    const { w, networkId, subnetId, port, router } = world();
    expectError(() => w.decide('port.update', { id: port, name: 'x' }, tenantB), ErrorCode.NotFound, /port/);
    expectError(() => w.decide('network.update', { id: networkId, name: 'x' }, tenantB), ErrorCode.NotFound, /network/);
    expectError(() => w.decide('subnet.update', { id: subnetId, name: 'x' }, tenantB), ErrorCode.NotFound, /subnet/);
    expectError(() => w.decide('router.update', { id: router, name: 'x' }, tenantB), ErrorCode.NotFound, /router/);
  });
});

describe('network update', () => {
  it('changes name, description and MTU on the network aggregate; a closing network is refused', () => {
    const w = new World();
    const id = w.run('network.create', { name: 'n', description: 'first' }, tenantA).resourceId;
    expect(view.network(w, id).description).toBe('first');
    const d = w.run('network.update', { id, mtu: 1400, description: 'second' }, tenantA);
    expect(d.aggregate).toEqual({ context: 'ipam', type: 'network', id });
    expect(d.event).toEqual({ type: 'ipam.NetworkUpdated', data: { networkId: id, mtu: 1400, description: 'second' } });
    expect(view.network(w, id)).toMatchObject({ mtu: 1400, description: 'second', name: 'n', revision: 2 });
    w.run('network.delete', { id }, tenantA);
    expectError(() => w.decide('network.update', { id, name: 'x' }, tenantA), ErrorCode.FailedPrecondition, /being deleted/);
  });
});

describe('subnet update', () => {
  it('sets DNS servers and host routes, checked as at creation', () => {
    const { w, subnetId } = world();
    const d = w.run('subnet.update', { id: subnetId, enableDhcp: false, dnsNameservers: ['192.0.2.53'], hostRoutes: [{ destination: '192.0.2.0/24', nexthop: '10.0.0.254' }] }, tenantA);
    expect(d.event.data).toEqual({ subnetId, enableDhcp: false, dnsNameservers: ['192.0.2.53'], hostRoutes: [{ destination: '192.0.2.0/24', nexthop: '10.0.0.254' }] });
    expectError(() => w.decide('subnet.update', { id: subnetId, hostRoutes: [{ destination: '192.0.2.0/24', nexthop: '10.0.1.1' }] }, tenantA), ErrorCode.InvalidArgument, /nexthop 10\.0\.1\.1 is outside the subnet 10\.0\.0\.0\/24/);
    expectError(() => w.decide('subnet.update', { id: subnetId, hostRoutes: [{ destination: '2001:db8::/64', nexthop: '10.0.0.1' }] }, tenantA), ErrorCode.InvalidArgument, /not IPv4 like the subnet/);
    expectError(() => w.decide('subnet.update', { id: subnetId, dnsNameservers: ['2001:db8::53'] }, tenantA), ErrorCode.InvalidArgument, /DNS server 2001:db8::53 is not an IPv4 address/);
    expectSchemaError(() => w.decide('subnet.update', { id: subnetId, dnsNameservers: ['192.0.2.1', '192.0.2.1'] }, tenantA), 'dnsNameservers', /twice/);
    // The same checks at creation.
    const { networkId } = w.networkWithSubnet('10.9.0.0/24');
    expectError(() => w.decide('subnet.create', { networkId, cidr: '10.8.0.0/24', hostRoutes: [{ destination: '0.0.0.0/0', nexthop: '10.9.0.1' }] }, tenantA), ErrorCode.InvalidArgument, /outside the subnet 10\.8\.0\.0\/24/);
  });

  it('resizes pools: the counts follow, and a shrink that leaves out an assigned address is refused naming it', () => {
    const { w, subnetId, port } = world();
    expectError(
      () => w.decide('subnet.update', { id: subnetId, allocationPools: [{ start: '10.0.0.100', end: '10.0.0.200' }] }, tenantA),
      ErrorCode.InvalidArgument,
      new RegExp(`leave out 10\\.0\\.0\\.10, assigned to port ${port}`),
    );
    expectError(() => w.decide('subnet.update', { id: subnetId, allocationPools: [{ start: '10.0.0.1', end: '10.0.0.50' }] }, tenantA), ErrorCode.InvalidArgument, /includes the gateway/);
    w.run('subnet.update', { id: subnetId, allocationPools: [{ start: '10.0.0.5', end: '10.0.0.30' }] }, tenantA);
    const s = w.state.networks[w.state.subnetNetwork[subnetId]!]!.subnets[subnetId]!;
    expect({ size: s.poolSize, used: s.poolAllocated }).toEqual({ size: '26', used: 2 });
    // Automatic allocation only from the new pool.
    const d = w.run('port.create', { networkId: s.networkId }, tenantA);
    expect(d.event.data).toMatchObject({ fixedIps: [{ subnetId, ip: expect.stringMatching(/^10\.0\.0\.([5-9]|[12]\d|30)$/) }] });
  });
});

describe('port update: fixed IPs', () => {
  it('moves an address: the old one goes back to the pool, the new one is the port’s', () => {
    const { w, networkId, subnetId, port } = world();
    const d = w.run('port.update', { id: port, fixedIps: [{ ip: '10.0.0.11' }] }, tenantA);
    expect(d.event).toEqual({
      type: 'ipam.PortUpdated',
      data: {
        portId: port,
        fixedIps: {
          before: [{ subnetId, ip: '10.0.0.10' }],
          after: [{ subnetId, ip: '10.0.0.11' }],
          released: [{ subnetId, ip: '10.0.0.10' }],
          allocated: [{ subnetId, ip: '10.0.0.11' }],
        },
      },
    });
    expect(view.port(w, port).fixedIps).toEqual([{ subnetId, ip: '10.0.0.11' }]);
    // The released address is free again.
    const again = w.run('port.create', { networkId, fixedIps: [{ ip: '10.0.0.10' }] }, tenantA);
    expect(again.event.data).toMatchObject({ fixedIps: [{ ip: '10.0.0.10' }] });
  });

  it('keeps addresses named, and a subnet-only entry keeps the port’s address there', () => {
    const { w, subnetId, port } = world();
    expect(w.decide('port.update', { id: port, fixedIps: [{ subnetId }] }, tenantA).kind).toBe('done');
    const d = w.run('port.update', { id: port, fixedIps: [{ subnetId }, { subnetId, ip: '10.0.0.12' }] }, tenantA);
    expect(d.event.data).toMatchObject({ fixedIps: { released: [], allocated: [{ subnetId, ip: '10.0.0.12' }] } });
    const e = w.run('port.update', { id: port, fixedIps: [{ ip: '10.0.0.12' }, { subnetId }] }, tenantA);
    // The subnet-only entry keeps .10 (the address the list does not name), nothing is allocated or released.
    expect(e.event.data).toMatchObject({ fixedIps: { after: [{ ip: '10.0.0.12' }, { ip: '10.0.0.10' }], released: [], allocated: [] } });
  });

  it('refuses an address outside the subnet, in no subnet, taken, or asked for twice; nothing changes', () => {
    const { w, subnetId, port, other } = world();
    expectError(() => w.decide('port.update', { id: port, fixedIps: [{ subnetId, ip: '10.0.1.5' }] }, tenantA), ErrorCode.InvalidArgument, /10\.0\.1\.5 is outside subnet/);
    expectError(() => w.decide('port.update', { id: port, fixedIps: [{ ip: '10.0.1.5' }] }, tenantA), ErrorCode.InvalidArgument, /10\.0\.1\.5 is in no subnet of network/);
    expectError(() => w.decide('port.update', { id: port, fixedIps: [{ ip: '10.0.0.20' }] }, tenantA), ErrorCode.AlreadyExists, new RegExp(`10\\.0\\.0\\.20 .* already used by port ${other}`));
    expectError(() => w.decide('port.update', { id: port, fixedIps: [{ ip: '10.0.0.1' }] }, tenantA), ErrorCode.AlreadyExists, /the subnet gateway/);
    expectError(() => w.decide('port.update', { id: port, fixedIps: [{ ip: '10.0.0.30' }, { ip: '10.0.0.30' }] }, tenantA), ErrorCode.InvalidArgument, /asked for twice/);
    expect(view.port(w, port)).toMatchObject({ revision: 1, fixedIps: [{ ip: '10.0.0.10' }] });
  });

  it('checks the pairs against the new addresses', () => {
    const { w, port } = world();
    w.run('port.update', { id: port, allowedAddressPairs: [{ ipAddress: '10.0.0.11' }] }, tenantA);
    expectError(() => w.decide('port.update', { id: port, fixedIps: [{ ip: '10.0.0.11' }] }, tenantA), ErrorCode.InvalidArgument, /is the port's own fixed IP and MAC/);
    // Both at once: the pairs move away and the address comes.
    const d = w.run('port.update', { id: port, fixedIps: [{ ip: '10.0.0.11' }], allowedAddressPairs: [{ ipAddress: '10.0.0.10' }] }, tenantA);
    expect(Object.keys(d.event.data).sort()).toEqual(['allowedAddressPairs', 'fixedIps', 'portId']);
  });
});

describe('router update', () => {
  it('sets routes via its subnets; refuses others; an interface a route uses cannot be removed', () => {
    const { w, router, subnetId } = world();
    const d = w.run('router.update', { id: router, routes: [{ destination: '198.51.100.0/24', nexthop: '10.0.0.20' }] }, tenantA);
    expect(d.event).toEqual({ type: 'ipam.RouterUpdated', data: { routerId: router, routes: [{ destination: '198.51.100.0/24', nexthop: '10.0.0.20' }] } });
    expectError(() => w.decide('router.update', { id: router, routes: [{ destination: '0.0.0.0/0', nexthop: '10.5.0.1' }] }, tenantA), ErrorCode.InvalidArgument, /nexthop 10\.5\.0\.1 is in none of router .* subnets \(10\.0\.0\.0\/24\)/);
    expectError(() => w.decide('router.update', { id: router, routes: [{ destination: '0.0.0.0/0', nexthop: '10.0.0.1' }] }, tenantA), ErrorCode.InvalidArgument, /the router's own interface/);
    expectError(() => w.decide('router.removeInterface', { id: router, subnetId }, tenantA), ErrorCode.FailedPrecondition, /goes via 10\.0\.0\.20 .* change the router's routes first/);
    w.run('router.update', { id: router, routes: [] }, tenantA);
    w.run('router.removeInterface', { id: router, subnetId }, tenantA);
    expectError(() => w.decide('router.create', { name: 'r2', routes: [{ destination: '0.0.0.0/0', nexthop: '10.0.0.20' }] }, tenantA), ErrorCode.InvalidArgument, /none yet/);
  });
});

describe("Neutron's notions in IPAM: a port's device owner, a network's default port security, updatedAt", () => {
  it('a device owner is recorded at creation (left out of the event when none), changed by an update, counted in the revision', () => {
    const { w, networkId, port } = world();
    expect(view.port(w, port)).toMatchObject({ deviceOwner: '', revision: 1 });
    const created = w.run('port.create', { networkId, deviceOwner: 'compute:nova', deviceId: 'vm-1' }, tenantA);
    expect(created.event.data).toMatchObject({ deviceOwner: 'compute:nova', deviceId: 'vm-1' });
    expect(Object.keys(w.run('port.create', { networkId }, tenantA).event.data)).not.toContain('deviceOwner');
    const d = w.run('port.update', { id: port, deviceOwner: 'network:router_interface' }, tenantA);
    expect(d.event).toEqual({ type: 'ipam.PortUpdated', data: { portId: port, deviceOwner: 'network:router_interface' } });
    expect(view.port(w, port)).toMatchObject({ deviceOwner: 'network:router_interface', revision: 2 });
    expect(w.decide('port.update', { id: port, deviceOwner: 'network:router_interface' }, tenantA)).toMatchObject({ kind: 'done' });
    expectSchemaError(() => w.decide('port.update', { id: port, deviceOwner: 'x'.repeat(256) }, tenantA), 'deviceOwner', /at most 255/);
  });

  it("a network's port security default is true unless created or updated otherwise", () => {
    const { w, networkId } = world();
    expect(view.network(w, networkId)).toMatchObject({ portSecurityEnabled: true });
    const off = w.run('network.create', { name: 'open', portSecurityEnabled: false }, tenantA);
    expect(off.event.data).toMatchObject({ portSecurityEnabled: false });
    expect(view.network(w, off.resourceId)).toMatchObject({ portSecurityEnabled: false, revision: 1 });
    expect(Object.keys(w.run('network.create', { name: 'n' }, tenantA).event.data)).not.toContain('portSecurityEnabled');
    const d = w.run('network.update', { id: networkId, portSecurityEnabled: false }, tenantA);
    expect(d.event).toEqual({ type: 'ipam.NetworkUpdated', data: { networkId, portSecurityEnabled: false } });
    expect(view.network(w, networkId)).toMatchObject({ portSecurityEnabled: false, revision: 2 });
  });

  it('updatedAt is the creation time until a change', () => {
    const { w, networkId, subnetId, port } = world();
    for (const v of [view.network(w, networkId), view.subnet(w, subnetId), view.port(w, port)]) expect(v.updatedAt).toBe(v.createdAt);
  });
});
