import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@strata/errors';
import { stateDigest } from '@strata/service-kit';
import { applyStored } from './evolve.js';
import { getFloatingIp, getRouterGateway, listFloatingIps } from './queries.js';
import { initialState } from './state.js';
import { admin, errorOf, NETWORK, tenantA, tenantB, World } from './test/given.js';

const MISSING = '00000000-0000-4000-8000-00000000dead';

/** A world with tenant A's floating IP and dual-stack port, tenant B's floating IP and port. */
function world() {
  const w = new World();
  const fip = w.floatingIp('tenant-a');
  const port = w.port('tenant-a', ['2001:db8::5', '10.0.0.5', '10.0.1.5']);
  const theirFip = w.floatingIp('tenant-b');
  const theirPort = w.port('tenant-b');
  return { w, fip, port, theirFip, theirPort };
}

describe('floatingip.associate', () => {
  it('translates to the port’s first IPv4 address by default, carrying what consumers need', () => {
    const { w, fip, port } = world();
    const d = w.run('floatingip.associate', { floatingIpId: fip, portId: port }, tenantA);
    const address = w.state.floatingIps[fip]!.address;
    expect(d).toMatchObject({ aggregate: { context: 'nat', type: 'floatingip', id: fip }, expectedVersion: 0, tenant: 'tenant-a', resourceId: fip });
    expect(d.event).toEqual({ type: 'nat.FloatingIpAssociated', data: { floatingIpId: fip, address, portId: port, networkId: NETWORK, fixedIp: '10.0.0.5' } });
    expect(getFloatingIp(w.state, tenantA, { id: fip })).toEqual({ floatingIpId: fip, tenant: 'tenant-a', address, portId: port, fixedIp: '10.0.0.5', networkId: NETWORK, hostId: 'hv1', revision: 2 });
  });

  it('takes the fixed IP asked for, and is idempotent for the same port and fixed IP', () => {
    const { w, fip, port } = world();
    expect(w.run('floatingip.associate', { floatingIpId: fip, portId: port, fixedIp: '10.0.1.5' }, tenantA).event.data).toMatchObject({ fixedIp: '10.0.1.5' });
    expect(w.decide('floatingip.associate', { floatingIpId: fip, portId: port, fixedIp: '10.0.1.5' }, tenantA)).toEqual({ kind: 'done', resourceId: fip });
  });

  it('refuses, writing nothing, with the code and a message that says what to do', () => {
    const { w, fip, port, theirFip, theirPort } = world();
    const v6only = w.port('tenant-a', ['2001:db8::7']);
    const bare = w.port('tenant-a', []);
    const other = w.port('tenant-a', ['10.0.0.9']);
    const second = w.floatingIp('tenant-a');
    w.run('floatingip.associate', { floatingIpId: second, portId: other }, tenantA);
    const address = w.state.floatingIps[fip]!.address;
    const cases: Array<[string, () => unknown, ErrorCode, RegExp]> = [
      ['unknown floating IP', () => w.decide('floatingip.associate', { floatingIpId: MISSING, portId: port }, tenantA), ErrorCode.NotFound, new RegExp(`^floating IP ${MISSING} not found$`)],
      ["another tenant's floating IP", () => w.decide('floatingip.associate', { floatingIpId: theirFip, portId: port }, tenantA), ErrorCode.NotFound, new RegExp(`^floating IP ${theirFip} not found$`)],
      ['unknown port', () => w.decide('floatingip.associate', { floatingIpId: fip, portId: MISSING }, tenantA), ErrorCode.NotFound, new RegExp(`^port ${MISSING} not found$`)],
      ["another tenant's port", () => w.decide('floatingip.associate', { floatingIpId: fip, portId: theirPort }, tenantA), ErrorCode.NotFound, new RegExp(`^port ${theirPort} not found$`)],
      ['tenants differ (admin)', () => w.decide('floatingip.associate', { floatingIpId: fip, portId: theirPort }, admin), ErrorCode.InvalidArgument, /belongs to tenant tenant-a and port .* to tenant tenant-b; .*own tenant/],
      ['IPv6-only port', () => w.decide('floatingip.associate', { floatingIpId: fip, portId: v6only }, tenantA), ErrorCode.FailedPrecondition, new RegExp(`^port ${v6only} has no IPv4 address to translate floating IP ${address} to$`)],
      ['port without address', () => w.decide('floatingip.associate', { floatingIpId: fip, portId: bare }, tenantA), ErrorCode.FailedPrecondition, /has no IPv4 address/],
      ['fixed IP not the port’s', () => w.decide('floatingip.associate', { floatingIpId: fip, portId: port, fixedIp: '10.0.0.6' }, tenantA), ErrorCode.InvalidArgument, /^fixedIp 10\.0\.0\.6 is not an IPv4 address of port .*; its IPv4 addresses: 10\.0\.0\.5, 10\.0\.1\.5$/],
      ['fixed IP of the port but IPv6', () => w.decide('floatingip.associate', { floatingIpId: fip, portId: port, fixedIp: '2001:db8::5' }, tenantA), ErrorCode.InvalidArgument, /translates to an IPv4 address/],
      ['fixed IP no address', () => w.decide('floatingip.associate', { floatingIpId: fip, portId: port, fixedIp: 'ten' }, tenantA), ErrorCode.InvalidArgument, /^invalid request: fixedIp/],
      ['fixed IP with another floating IP', () => w.decide('floatingip.associate', { floatingIpId: fip, portId: other }, tenantA), ErrorCode.FailedPrecondition, new RegExp(`^fixed IP 10\\.0\\.0\\.9 of port ${other} already has floating IP ${second} \\(.*\\); disassociate it first$`)],
      ['already associated elsewhere', () => w.decide('floatingip.associate', { floatingIpId: second, portId: port }, tenantA), ErrorCode.FailedPrecondition, new RegExp(`already associated with port ${other} \\(fixed IP 10\\.0\\.0\\.9\\); disassociate it first$`)],
    ];
    const before = w.events.length;
    for (const [what, fn, code, message] of cases) {
      const e = errorOf(fn);
      expect(e.code, what).toBe(code);
      expect(e.message, what).toMatch(message);
    }
    expect(w.events.length).toBe(before);
  });

  it('lets an admin act for a tenant (the event is the owner’s)', () => {
    const { w, fip, port } = world();
    expect(w.run('floatingip.associate', { floatingIpId: fip, portId: port }, admin)).toMatchObject({ tenant: 'tenant-a' });
  });

  it('a floating IP of one port at a time: re-associating elsewhere needs a disassociation first', () => {
    const { w, fip, port } = world();
    const next = w.port('tenant-a', ['10.0.0.7'], 'hv2');
    w.run('floatingip.associate', { floatingIpId: fip, portId: port }, tenantA);
    const off = w.run('floatingip.disassociate', { floatingIpId: fip }, tenantA);
    expect(off.event).toEqual({ type: 'nat.FloatingIpDisassociated', data: { floatingIpId: fip, address: w.state.floatingIps[fip]!.address, portId: port, reason: 'requested' } });
    const on = w.run('floatingip.associate', { floatingIpId: fip, portId: next }, tenantA);
    expect(on.expectedVersion).toBe(w.events.at(-2)!.seq);
    expect(getFloatingIp(w.state, tenantA, { id: fip })).toMatchObject({ portId: next, fixedIp: '10.0.0.7', hostId: 'hv2' });
  });
});

describe('floatingip.disassociate and queries', () => {
  it('is done without an event when not associated; NOT_FOUND for another tenant', () => {
    const { w, fip, theirFip } = world();
    expect(w.decide('floatingip.disassociate', { floatingIpId: fip }, tenantA)).toEqual({ kind: 'done', resourceId: fip });
    expect(errorOf(() => w.decide('floatingip.disassociate', { floatingIpId: theirFip }, tenantA)).code).toBe(ErrorCode.NotFound);
  });

  it('follows the port to its new host; lists only what the caller may see, paged, optionally by port', () => {
    const { w, fip, port, theirFip } = world();
    w.run('floatingip.associate', { floatingIpId: fip, portId: port }, tenantA);
    w.portBound(port, 'hv3');
    expect(getFloatingIp(w.state, tenantA, { id: fip }).hostId).toBe('hv3');
    expect(listFloatingIps(w.state, tenantA, { limit: 10, after: '' }).items.map((v) => v.floatingIpId)).toEqual([fip]);
    expect(listFloatingIps(w.state, admin, { limit: 10, after: '' }).items.map((v) => v.floatingIpId).sort()).toEqual([fip, theirFip].sort());
    expect(listFloatingIps(w.state, admin, { limit: 1, after: '' }).next).not.toBe('');
    expect(listFloatingIps(w.state, admin, { limit: 10, after: '', portId: port }).items.map((v) => v.floatingIpId)).toEqual([fip]);
    expect(errorOf(() => getFloatingIp(w.state, tenantB, { id: fip })).code).toBe(ErrorCode.NotFound);
  });
});

describe('floating IP revisions', () => {
  it('counts 1 at allocation and 1 per association change; a stale expectedRevision is refused before anything is decided', () => {
    const { w, fip, port } = world();
    expect(getFloatingIp(w.state, tenantA, { id: fip }).revision).toBe(1);
    const stale = errorOf(() => w.decide('floatingip.associate', { floatingIpId: fip, portId: port, expectedRevision: 2 }, tenantA));
    expect(stale.name).toBe('RevisionConflictError');
    expect(stale.message).toBe(`floating IP ${fip} is at revision 1, not the expected 2: read it again and retry`);
    w.run('floatingip.associate', { floatingIpId: fip, portId: port, expectedRevision: 1 }, tenantA);
    expect(getFloatingIp(w.state, tenantA, { id: fip }).revision).toBe(2);
    // Even a request that would change nothing is refused when stale (as every update).
    expect(errorOf(() => w.decide('floatingip.disassociate', { floatingIpId: fip, expectedRevision: 1 }, tenantA)).name).toBe('RevisionConflictError');
    w.run('floatingip.disassociate', { floatingIpId: fip, expectedRevision: 2 }, tenantA);
    expect(getFloatingIp(w.state, tenantA, { id: fip }).revision).toBe(3);
  });
});

describe('router.setGateway', () => {
  it('enables and disables; no change is done; another tenant’s or a missing router is NOT_FOUND', () => {
    const w = new World();
    const r = w.router('tenant-a');
    expect(w.decide('router.setGateway', { routerId: r, enabled: false }, tenantA)).toEqual({ kind: 'done', resourceId: r });
    expect(w.run('router.setGateway', { routerId: r, enabled: true }, tenantA)).toMatchObject({
      aggregate: { context: 'nat', type: 'router', id: r },
      tenant: 'tenant-a',
      event: { type: 'nat.ExternalGatewayEnabled', data: { routerId: r } },
    });
    expect(w.decide('router.setGateway', { routerId: r, enabled: true }, tenantA).kind).toBe('done');
    expect(w.run('router.setGateway', { routerId: r, enabled: false }, admin).event.type).toBe('nat.ExternalGatewayDisabled');
    expect(errorOf(() => w.decide('router.setGateway', { routerId: r, enabled: true }, tenantB)).message).toBe(`router ${r} not found`);
    expect(errorOf(() => w.decide('router.setGateway', { routerId: MISSING, enabled: true }, tenantA)).code).toBe(ErrorCode.NotFound);
  });

  it('records the external network a gateway is named after; naming another one enables it again, disabling forgets it', () => {
    const w = new World();
    const r = w.router('tenant-a');
    const pool1 = w.pool('floating-ip');
    const pool2 = w.pool('floating-ip');
    // Only a floating-IP pool is an external network: another pool or an unknown id is NOT_FOUND, nothing decided.
    const hosts = w.pool('host-ip');
    expect(errorOf(() => w.decide('router.setGateway', { routerId: r, enabled: true, externalNetworkId: hosts }, tenantA))).toMatchObject({ code: ErrorCode.NotFound, message: `pool ${hosts} not found` });
    expect(errorOf(() => w.decide('router.setGateway', { routerId: r, enabled: true, externalNetworkId: MISSING }, tenantA)).code).toBe(ErrorCode.NotFound);
    expect(w.run('router.setGateway', { routerId: r, enabled: true, externalNetworkId: pool1 }, tenantA).event).toEqual({
      type: 'nat.ExternalGatewayEnabled',
      data: { routerId: r, externalNetworkId: pool1 },
    });
    expect(getRouterGateway(w.state, tenantA, { id: r })).toEqual({ routerId: r, tenant: 'tenant-a', externalGateway: true, externalNetworkId: pool1 });
    expect(w.decide('router.setGateway', { routerId: r, enabled: true, externalNetworkId: pool1 }, tenantA).kind).toBe('done');
    expect(w.run('router.setGateway', { routerId: r, enabled: true, externalNetworkId: pool2 }, tenantA).event.data).toEqual({ routerId: r, externalNetworkId: pool2 });
    expect(getRouterGateway(w.state, tenantA, { id: r }).externalNetworkId).toBe(pool2);
    w.run('router.setGateway', { routerId: r, enabled: false }, tenantA);
    expect(getRouterGateway(w.state, tenantA, { id: r })).toEqual({ routerId: r, tenant: 'tenant-a', externalGateway: false, externalNetworkId: null });
    // Naming one on a disabled gateway is refused by the request schema.
    expect(errorOf(() => w.decide('router.setGateway', { routerId: r, enabled: false, externalNetworkId: pool1 }, tenantA)).message).toMatch(/externalNetworkId: names an external network for a gateway being disabled/);
  });
});

describe('the reactor', () => {
  it('ends every association of a deleted port, once, in a fixed order', () => {
    const w = new World();
    const port = w.port('tenant-a', ['10.0.0.5', '10.0.0.6']);
    const [f1, f2] = [w.floatingIp('tenant-a'), w.floatingIp('tenant-a')];
    w.run('floatingip.associate', { floatingIpId: f1, portId: port, fixedIp: '10.0.0.5' }, tenantA);
    w.run('floatingip.associate', { floatingIpId: f2, portId: port, fixedIp: '10.0.0.6' }, tenantA);
    w.portDeleted(port);
    // Until the reactor ran: still associated, realised nowhere.
    expect(getFloatingIp(w.state, tenantA, { id: f1 })).toMatchObject({ portId: port, hostId: null });
    const written = w.reactPortDeleted(port);
    expect(written.map((d) => d.event.data)).toEqual(
      [f1, f2].sort().map((id) => ({ floatingIpId: id, address: w.state.floatingIps[id]!.address, portId: port, reason: 'port-deleted' })),
    );
    expect(w.reactPortDeleted(port)).toEqual([]);
    expect(w.state.portFloatingIps).toEqual({});
    // The addresses are free for another port.
    const next = w.port('tenant-a');
    expect(w.decide('floatingip.associate', { floatingIpId: f1, portId: next }, tenantA).kind).toBe('append');
  });

  it('ends the association of a fixed IP the port no longer has (an update moved it) and keeps the others', () => {
    const w = new World();
    const port = w.port('tenant-a', ['10.0.0.5', '10.0.0.6']);
    const moved = w.floatingIp('tenant-a');
    const kept = w.floatingIp('tenant-a');
    w.run('floatingip.associate', { floatingIpId: moved, portId: port, fixedIp: '10.0.0.5' }, tenantA);
    w.run('floatingip.associate', { floatingIpId: kept, portId: port, fixedIp: '10.0.0.6' }, tenantA);
    w.portAddressesChanged(port, ['10.0.0.7', '10.0.0.6']);
    const written = w.reactPortUpdated(port);
    expect(written.map((d) => d.event.data)).toEqual([{ floatingIpId: moved, address: w.state.floatingIps[moved]!.address, portId: port, reason: 'fixed-ip-released' }]);
    expect(w.reactPortUpdated(port)).toEqual([]);
    expect(getFloatingIp(w.state, tenantA, { id: kept })).toMatchObject({ portId: port, fixedIp: '10.0.0.6' });
    expect(getFloatingIp(w.state, tenantA, { id: moved })).toMatchObject({ portId: null });
  });

  it('ends the association of a released floating IP, which then is gone for commands and queries', () => {
    const w = new World();
    const port = w.port('tenant-a');
    const fip = w.floatingIp('tenant-a');
    const idle = w.floatingIp('tenant-a');
    w.run('floatingip.associate', { floatingIpId: fip, portId: port }, tenantA);
    w.floatingIpReleased(fip);
    w.floatingIpReleased(idle);
    expect(w.reactReleased(fip).map((d) => d.event.data)).toMatchObject([{ floatingIpId: fip, reason: 'floating-ip-released' }]);
    expect(w.reactReleased(fip)).toEqual([]);
    expect(w.reactReleased(idle)).toEqual([]);
    expect(errorOf(() => w.decide('floatingip.disassociate', { floatingIpId: fip }, tenantA)).code).toBe(ErrorCode.NotFound);
    expect(listFloatingIps(w.state, admin, { limit: 10, after: '' }).items).toEqual([]);
    // A tombstone keeps the aggregate's version (only for the one with nat history).
    expect(Object.keys(w.state.floatingIps)).toEqual([fip]);
  });

  it('disables the gateway of a deleted router, and nothing for one without', () => {
    const w = new World();
    const [on, off] = [w.router('tenant-a'), w.router('tenant-a')];
    w.run('router.setGateway', { routerId: on, enabled: true }, tenantA);
    w.routerDeleted(on);
    w.routerDeleted(off);
    expect(w.reactRouterDeleted(on).map((d) => d.event.type)).toEqual(['nat.ExternalGatewayDisabled']);
    expect(w.reactRouterDeleted(on)).toEqual([]);
    expect(w.reactRouterDeleted(off)).toEqual([]);
    expect(errorOf(() => w.decide('router.setGateway', { routerId: on, enabled: true }, tenantA)).code).toBe(ErrorCode.NotFound);
  });

  it('holds an association decided before IPAM released the floating IP and appended after (a stale instance), and ends it with its port', () => {
    const w = new World();
    const port = w.port('tenant-a');
    const fip = w.floatingIp('tenant-a');
    const stale = w.decide('floatingip.associate', { floatingIpId: fip, portId: port }, tenantA);
    w.floatingIpReleased(fip);
    expect(w.reactReleased(fip)).toEqual([]);
    // Nothing of it was left (no nat history), so the append's version check passes: the log (and hostview) now say associated.
    expect(w.state.floatingIps[fip]).toBeUndefined();
    if (stale.kind !== 'append') throw new Error('expected an append');
    w.apply(stale);
    expect(w.state.floatingIps[fip]).toMatchObject({ live: false, tenant: 'tenant-a', association: { portId: port } });
    expect(errorOf(() => w.decide('floatingip.disassociate', { floatingIpId: fip }, tenantA)).code).toBe(ErrorCode.NotFound);
    w.portDeleted(port);
    expect(w.reactPortDeleted(port).map((d) => d.event.data)).toMatchObject([{ floatingIpId: fip, reason: 'port-deleted' }]);
  });

  it('keeps what its own log holds when IPAM makes the id again: an association, a gateway nat has not ended', () => {
    const w = new World();
    const port = w.port('tenant-a');
    const fip = w.floatingIp('tenant-a');
    w.run('floatingip.associate', { floatingIpId: fip, portId: port }, tenantA);
    const router = w.router('tenant-a');
    w.run('router.setGateway', { routerId: router, enabled: true }, tenantA);
    // Released and deleted, then back (the same request id re-sent), before the reactor ended them.
    w.floatingIpReleased(fip);
    w.floatingIp('tenant-a', fip);
    w.routerDeleted(router);
    w.router('tenant-a', router);
    expect(w.reactReleased(fip)).toEqual([]);
    expect(w.reactRouterDeleted(router)).toEqual([]);
    expect(getFloatingIp(w.state, tenantA, { id: fip })).toMatchObject({ portId: port });
    expect(w.state.portFloatingIps[port]).toEqual({ [fip]: '10.0.0.5' });
    expect(getRouterGateway(w.state, tenantA, { id: router }).externalGateway).toBe(true);
    expect(w.run('floatingip.disassociate', { floatingIpId: fip }, tenantA).event.type).toBe('nat.FloatingIpDisassociated');
  });
});

it('a replay of the same events gives the same state (digest), other contexts skipped', () => {
  const { w, fip, port } = world();
  w.run('floatingip.associate', { floatingIpId: fip, portId: port }, tenantA);
  w.store({ type: 'secgroup.PortForgotten', version: 1, aggregate: { context: 'secgroup', type: 'port', id: port }, data: { portId: port }, tenant: 'tenant-a' });
  const replayed = initialState();
  for (const e of w.events) applyStored(replayed, e);
  expect(stateDigest(replayed)).toEqual(stateDigest(w.state));
  expect(replayed.seq).toBe(w.events.length);
});
