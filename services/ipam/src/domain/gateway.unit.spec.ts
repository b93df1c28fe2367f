import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ZodError } from 'zod';
import { ipamContract } from '@strata/contracts';
import { getGatewayBinding, getGatewayDevice, listGatewayBindings, listGatewayDevices } from './gateway-queries.js';
import { admin, code, tenantA, tenantB, World } from './test/given.js';

/** A world with a registered hypervisor `gw1`, an EVPN switch (swp1 granted to A, swp2 to B, swp3 admin only) and one network per tenant. */
function world() {
  const w = new World();
  const pool = w.run('pool.create', { name: 'hosts', cidr: '203.0.113.0/24', purpose: 'host-ip' }).resourceId;
  w.run('hypervisor.register', { id: 'gw1', vtepIp: '198.18.0.11', hostPoolId: pool });
  w.run('hypervisor.register', { id: 'hv2', vtepIp: '198.18.0.12', hostPoolId: pool });
  const sw = w.run('gatewaydevice.create', {
    name: 'tor1',
    kind: 'evpn',
    vtepIp: '198.18.0.40',
    bgp: { address: '198.18.0.40', remoteAs: 65040 },
    ports: [
      { name: 'swp1', tenant: 'tenant-a' },
      { name: 'swp2', tenant: 'tenant-b' },
      { name: 'swp3', tenant: null },
    ],
  }).resourceId;
  const netA = w.run('network.create', { name: 'a' }, tenantA).resourceId;
  const netB = w.run('network.create', { name: 'b' }, tenantB).resourceId;
  return { w, pool, sw, netA, netB };
}

/** How many events the world holds: a refused command adds none. */
const unchanged = (w: World, fn: () => unknown): string => {
  const before = w.events.length;
  const out = code(fn);
  expect(w.events.length).toBe(before);
  return out;
};

describe('gateway devices', () => {
  it('creates the three kinds; a host device takes its hypervisor VTEP and its NICs as ports', () => {
    const { w, sw } = world();
    expect(getGatewayDevice(w.state, admin, { id: sw })).toMatchObject({ kind: 'evpn', vtepIp: '198.18.0.40', bgp: { address: '198.18.0.40', remoteAs: 65040 }, ovsdb: null, hostId: null });
    const ov = w.run('gatewaydevice.create', { name: 'vtep1', kind: 'ovsdb', vtepIp: '198.18.0.41', ovsdb: { target: 'tcp:198.18.0.41:6640' }, ports: [{ name: 'p1' }] });
    expect(ov.event).toMatchObject({ type: 'ipam.GatewayDeviceCreated', data: { kind: 'ovsdb', ovsdb: { target: 'tcp:198.18.0.41:6640' }, ports: [{ name: 'p1', tenant: null }] } });
    const host = w.run('gatewaydevice.create', { name: 'gw', kind: 'host', hostId: 'gw1', ports: [{ name: 'trunk0', tenant: 'tenant-a' }] });
    expect(host.event.data).toMatchObject({ kind: 'host', hostId: 'gw1', vtepIp: '198.18.0.11' });
  });

  it('refuses, writing nothing: a tenant, a missing or unregistered hypervisor, a second device of one host, a NIC name Linux refuses, a VTEP in use, kind fields that do not fit', () => {
    const { w } = world();
    expect(unchanged(w, () => w.decide('gatewaydevice.create', { name: 'x', kind: 'host', hostId: 'gw1', ports: [{ name: 'eth1' }] }, tenantA))).toMatch(/^PERMISSION_DENIED: creating a gateway device needs an admin token/);
    expect(unchanged(w, () => w.decide('gatewaydevice.create', { name: 'x', kind: 'host', hostId: 'nohost', ports: [{ name: 'eth1' }] }))).toMatch(/^NOT_FOUND: hypervisor nohost/);
    expect(unchanged(w, () => w.decide('gatewaydevice.create', { name: 'x', kind: 'host', hostId: 'gw1', ports: [{ name: 'a-very-long-nic-name' }] }))).toMatch(/^INVALID_ARGUMENT: port a-very-long-nic-name is not a Linux interface name/);
    w.run('gatewaydevice.create', { name: 'gw', kind: 'host', hostId: 'gw1', ports: [{ name: 'eth1' }] });
    expect(unchanged(w, () => w.decide('gatewaydevice.create', { name: 'y', kind: 'host', hostId: 'gw1', ports: [{ name: 'eth2' }] }))).toMatch(/^ALREADY_EXISTS: hypervisor gw1 is already gateway device/);
    expect(unchanged(w, () => w.decide('gatewaydevice.create', { name: 'y', kind: 'ovsdb', vtepIp: '198.18.0.12', ovsdb: { target: 'tcp:198.18.0.12:6640' }, ports: [{ name: 'p' }] }))).toMatch(/^ALREADY_EXISTS: VTEP address 198.18.0.12 is hypervisor hv2's/);
    expect(unchanged(w, () => w.decide('gatewaydevice.create', { name: 'y', kind: 'ovsdb', vtepIp: '198.18.0.40', ovsdb: { target: 'tcp:198.18.0.40:6640' }, ports: [{ name: 'p' }] }))).toMatch(/^ALREADY_EXISTS: VTEP address 198.18.0.40 is gateway device/);
    const schema = ipamContract.commands['gatewaydevice.create'].request;
    const issues = (input: unknown) => {
      const r = schema.safeParse(input);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ kind: 'evpn', vtepIp: '198.18.0.50', ports: [{ name: 'p' }] })).toEqual(['bgp: is required for a device of kind evpn']);
    expect(issues({ kind: 'host', hostId: 'gw1', vtepIp: '198.18.0.50', ports: [{ name: 'p' }] })).toEqual(['vtepIp: is not given for a device of kind host']);
    expect(issues({ kind: 'ovsdb', vtepIp: '198.18.0.50', ovsdb: { target: 'http://x' }, ports: [{ name: 'p' }] })[0]).toMatch(/^ovsdb.target: must be an OVSDB target/);
    expect(issues({ kind: 'host', hostId: 'gw1', ports: [{ name: 'p' }, { name: 'p' }] })).toEqual(['ports: names a port twice']);
    expect(issues({ kind: 'host', hostId: 'gw1', ports: [] })).toEqual(['ports: a device needs at least one port']);
  });

  it('refuses deleting a device while bound, and a hypervisor that is a gateway device', () => {
    const { w, sw, netA } = world();
    const b = w.run('gatewaybinding.create', { deviceId: sw, port: 'swp1', vlan: 100, networkId: netA }, tenantA).resourceId;
    expect(unchanged(w, () => w.decide('gatewaydevice.delete', { id: sw }))).toMatch(/^FAILED_PRECONDITION: gateway device .* still has 1 binding/);
    w.run('gatewaybinding.delete', { id: b }, tenantA);
    w.run('gatewaydevice.delete', { id: sw });
    expect(w.state.cloud.gatewayDevices).toEqual({});
    w.run('gatewaydevice.create', { name: 'gw', kind: 'host', hostId: 'gw1', ports: [{ name: 'eth1' }] });
    expect(unchanged(w, () => w.decide('hypervisor.deregister', { id: 'gw1' }))).toMatch(/^FAILED_PRECONDITION: hypervisor gw1 is gateway device/);
  });

  it('shows a tenant only the devices with a port granted to it, and only those ports', () => {
    const { w, sw } = world();
    const other = w.run('gatewaydevice.create', { name: 'other', kind: 'host', hostId: 'gw1', ports: [{ name: 'eth1', tenant: 'tenant-b' }] }).resourceId;
    expect(listGatewayDevices(w.state, tenantA, { limit: 100, after: '' }).items.map((d) => [d.id, d.ports])).toEqual([[sw, [{ name: 'swp1', tenant: 'tenant-a' }]]]);
    expect(listGatewayDevices(w.state, admin, { limit: 100, after: '' }).items).toHaveLength(2);
    expect(code(() => getGatewayDevice(w.state, tenantA, { id: other }))).toMatch(/^NOT_FOUND: gateway device/);
    expect(getGatewayDevice(w.state, tenantB, { id: other }).ports).toEqual([{ name: 'eth1', tenant: 'tenant-b' }]);
  });
});

describe('gateway bindings', () => {
  it('binds a tenant network on a port granted to the tenant; the event carries tenant, network, VNI and place', () => {
    const { w, sw, netA } = world();
    const d = w.run('gatewaybinding.create', { deviceId: sw, port: 'swp1', vlan: 100, networkId: netA }, tenantA);
    expect(d.tenant).toBe('tenant-a');
    expect(d.event).toEqual({
      type: 'ipam.GatewayBindingCreated',
      data: { bindingId: d.resourceId, tenant: 'tenant-a', networkId: netA, vni: w.state.cloud.networks[netA]!.vni, deviceId: sw, port: 'swp1', vlan: 100 },
    });
    expect(getGatewayBinding(w.state, tenantA, { id: d.resourceId })).toMatchObject({ port: 'swp1', vlan: 100, revision: 1 });
    // The admin binds anything on a port granted to nobody.
    w.run('gatewaybinding.create', { deviceId: sw, port: 'swp3', vlan: 100, networkId: netA }, admin);
  });

  it('refuses each bad binding with a clear error and writes nothing', () => {
    const { w, sw, netA, netB } = world();
    w.run('gatewaybinding.create', { deviceId: sw, port: 'swp1', vlan: 100, networkId: netA }, tenantA);
    const parse = (vlan: number) => () => w.decide('gatewaybinding.create', { deviceId: sw, port: 'swp1', vlan, networkId: netA }, tenantA);
    for (const vlan of [0, 4095, -1, 1.5]) expect(parse(vlan)).toThrow(ZodError);
    expect(unchanged(w, parse(100))).toMatch(/^ALREADY_EXISTS: VLAN 100 of port swp1 of gateway device .* is already bound by binding/);
    expect(unchanged(w, () => w.decide('gatewaybinding.create', { deviceId: sw, port: 'swp1', vlan: 101, networkId: netB }, tenantA))).toMatch(/^NOT_FOUND: network/);
    expect(unchanged(w, () => w.decide('gatewaybinding.create', { deviceId: sw, port: 'swp2', vlan: 101, networkId: netA }, tenantA))).toMatch(/^PERMISSION_DENIED: tenant tenant-a may not bind on port swp2/);
    expect(unchanged(w, () => w.decide('gatewaybinding.create', { deviceId: sw, port: 'swp9', vlan: 101, networkId: netA }, tenantA))).toMatch(/^PERMISSION_DENIED: tenant tenant-a may not bind on port swp9/);
    expect(unchanged(w, () => w.decide('gatewaybinding.create', { deviceId: sw, port: 'swp9', vlan: 101, networkId: netA }, admin))).toMatch(/^INVALID_ARGUMENT: gateway device .* has no port swp9/);
    expect(unchanged(w, () => w.decide('gatewaybinding.create', { deviceId: sw, port: 'swp2', vlan: 101, networkId: netA }, admin))).toMatch(/^INVALID_ARGUMENT: port swp2 .* is granted to tenant tenant-b; it cannot carry a network of tenant tenant-a/);
    const missing = '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b';
    expect(unchanged(w, () => w.decide('gatewaybinding.create', { deviceId: missing, port: 'swp1', vlan: 101, networkId: netA }, tenantA))).toMatch(/^NOT_FOUND: gateway device/);
    expect(unchanged(w, () => w.decide('gatewaybinding.create', { deviceId: sw, port: 'swp1', vlan: 101, networkId: missing }, tenantA))).toMatch(/^NOT_FOUND: network/);
    // The same VLAN on another port is another slot: tenant B binds VLAN 100 of its own port.
    expect(code(() => w.decide('gatewaybinding.create', { deviceId: sw, port: 'swp2', vlan: 100, networkId: netB }, tenantB))).toBe('no error');
  });

  it("refuses deleting a bound network; a tenant cannot read, move or delete another tenant's binding", () => {
    const { w, sw, netA } = world();
    const b = w.run('gatewaybinding.create', { deviceId: sw, port: 'swp1', vlan: 100, networkId: netA }, tenantA).resourceId;
    expect(unchanged(w, () => w.decide('network.delete', { id: netA }, tenantA))).toMatch(/^FAILED_PRECONDITION: network .* is bound to 1 gateway VLAN/);
    expect(code(() => getGatewayBinding(w.state, tenantB, { id: b }))).toMatch(/^NOT_FOUND: gateway binding/);
    expect(listGatewayBindings(w.state, tenantB, { limit: 100, after: '' }).items).toEqual([]);
    expect(unchanged(w, () => w.decide('gatewaybinding.delete', { id: b }, tenantB))).toMatch(/^NOT_FOUND: gateway binding/);
    expect(unchanged(w, () => w.decide('gatewaybinding.move', { id: b, deviceId: sw, port: 'swp1', vlan: 200 }, tenantA))).toMatch(/^PERMISSION_DENIED: moving a gateway binding needs an admin token/);
  });

  it('moves a binding (admin) to another device, port or VLAN, freeing the old slot', () => {
    const { w, sw, netA } = world();
    const b = w.run('gatewaybinding.create', { deviceId: sw, port: 'swp1', vlan: 100, networkId: netA }, tenantA).resourceId;
    const host = w.run('gatewaydevice.create', { name: 'gw', kind: 'host', hostId: 'gw1', ports: [{ name: 'eth1', tenant: 'tenant-a' }, { name: 'eth2', tenant: 'tenant-b' }] }).resourceId;
    expect(unchanged(w, () => w.decide('gatewaybinding.move', { id: b, deviceId: host, port: 'eth2' }))).toMatch(/granted to tenant tenant-b; it cannot carry a network of tenant tenant-a/);
    const moved = w.run('gatewaybinding.move', { id: b, deviceId: host, port: 'eth1' });
    expect(moved.event).toMatchObject({ type: 'ipam.GatewayBindingMoved', data: { deviceId: host, port: 'eth1', vlan: 100, previous: { deviceId: sw, port: 'swp1', vlan: 100 } } });
    expect(w.decide('gatewaybinding.move', { id: b, deviceId: host, port: 'eth1', vlan: 100 }).kind).toBe('done');
    // The old slot is free again, the new one taken.
    w.run('gatewaybinding.create', { deviceId: sw, port: 'swp1', vlan: 100, networkId: netA }, tenantA);
    expect(code(() => w.decide('gatewaybinding.create', { deviceId: host, port: 'eth1', vlan: 100, networkId: netA }, tenantA))).toMatch(/^ALREADY_EXISTS/);
    expect(getGatewayBinding(w.state, tenantA, { id: b })).toMatchObject({ deviceId: host, port: 'eth1', revision: 2 });
  });

  it('keeps one binding per (device, port, VLAN) whatever sequence of creates, moves and deletes', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant('create' as const), port: fc.constantFrom('swp1', 'swp3'), vlan: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ op: fc.constant('move' as const), which: fc.nat(), port: fc.constantFrom('swp1', 'swp3'), vlan: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ op: fc.constant('delete' as const), which: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const { w, sw, netA } = world();
        for (const o of ops) {
          const ids = Object.keys(w.state.cloud.gatewayBindings);
          const pick = 'which' in o ? ids[o.which % Math.max(ids.length, 1)] : undefined;
          const before = w.events.length;
          let d;
          try {
            if (o.op === 'create') d = w.decide('gatewaybinding.create', { deviceId: sw, port: o.port, vlan: o.vlan, networkId: netA }, admin);
            else if (pick === undefined) continue;
            else if (o.op === 'move') d = w.decide('gatewaybinding.move', { id: pick, deviceId: sw, port: o.port, vlan: o.vlan });
            else d = w.decide('gatewaybinding.delete', { id: pick });
          } catch {
            expect(w.events.length).toBe(before);
            continue;
          }
          if (d.kind === 'append') w.apply(d);
        }
        const places = Object.values(w.state.cloud.gatewayBindings).map((b) => `${b.port}/${b.vlan}`);
        expect(new Set(places).size).toBe(places.length);
        expect(Object.keys(w.state.cloud.gatewaySlots)).toHaveLength(places.length);
      }),
      { numRuns: 100 },
    );
  });
});
