import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ZodError } from 'zod';
import { ErrorCode, StrataError } from '@strata/errors';
import { admin, tenantA, tenantB, World } from './test/given.js';

function expectError(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StrataError);
    expect((e as StrataError).code).toBe(code);
    expect((e as StrataError).message).toMatch(message);
    return;
  }
  throw new Error('expected an error, got a decision');
}

describe('networks', () => {
  it('numbers networks with the lowest free VNI and reuses freed ones', () => {
    const w = new World({ vniMin: 100, vniMax: 101, defaultMtu: 1450, macPrefix: '02:53:54' });
    const a = w.run('network.create', { name: 'a' }, tenantA);
    const b = w.run('network.create', { name: 'b' }, tenantB);
    expect(w.state.cloud.networks[a.resourceId]?.vni).toBe(100);
    expect(w.state.cloud.networks[b.resourceId]?.vni).toBe(101);
    expectError(() => w.decide('network.create', { name: 'c' }, tenantA), ErrorCode.ResourceExhausted, /no free VNI.*100-101/);
    w.run('network.delete', { id: a.resourceId }, tenantA);
    const finish = w.state.networks[a.resourceId]?.closed;
    expect(finish).toBe(true);
  });

  it('refuses to delete a network with ports', () => {
    const w = new World();
    const { networkId } = w.networkWithSubnet();
    w.run('port.create', { networkId }, tenantA);
    expectError(() => w.decide('network.delete', { id: networkId }, tenantA), ErrorCode.FailedPrecondition, /still has 1 port/);
  });

  it('lets only admins act for another tenant', () => {
    const w = new World();
    expectError(() => w.decide('network.create', { name: 'x', tenant: 'tenant-b' }, tenantA), ErrorCode.PermissionDenied, /may not create resources for tenant tenant-b/);
    const d = w.run('network.create', { name: 'x', tenant: 'tenant-b' }, admin);
    expect(d.tenant).toBe('tenant-b');
  });

  it('answers a retried request with its first result instead of a second network', () => {
    const w = new World();
    const first = w.run('network.create', { name: 'x' }, tenantA, '00000000-0000-4000-8000-000000000001');
    const again = w.decide('network.create', { name: 'x' }, tenantA, '00000000-0000-4000-8000-000000000001');
    expect(again).toEqual({ kind: 'done', resourceId: first.resourceId });
  });

  it('never uses a request id as a resource id: ids are derived from the tenant and its request id', () => {
    const w = new World();
    const rid = '00000000-0000-4000-8000-000000000001';
    const mine = w.run('network.create', { name: 'x' }, tenantA, rid);
    expect(mine.resourceId).not.toBe(rid);
    // Another tenant sending the same request id (or one equal to tenant A's network id) gets a network of its own.
    const theirs = w.run('network.create', { name: 'x' }, tenantB, rid);
    const squat = w.run('network.create', { name: 'x' }, tenantB, mine.resourceId);
    expect(new Set([mine.resourceId, theirs.resourceId, squat.resourceId]).size).toBe(3);
    // The same request id names different resources in different kinds.
    expect(w.run('router.create', { name: 'r' }, tenantA, rid).resourceId).not.toBe(mine.resourceId);
  });
});

describe('subnets', () => {
  it('rejects a bad CIDR, a CIDR with host bits and an overlapping subnet', () => {
    const w = new World();
    const { networkId } = w.networkWithSubnet('10.0.0.0/24');
    expect(() => w.decide('subnet.create', { networkId, cidr: '10.0.0.0/33' }, tenantA)).toThrow(ZodError);
    expect(() => w.decide('subnet.create', { networkId, cidr: '10.0.1.1/24' }, tenantA)).toThrow(/did you mean 10.0.1.0\/24/);
    expectError(() => w.decide('subnet.create', { networkId, cidr: '10.0.0.128/25' }, tenantA), ErrorCode.InvalidArgument, /10.0.0.128\/25 overlaps subnet .* \(10.0.0.0\/24\)/);
  });

  it('allows the same range on another tenant network (overlapping tenants stay apart)', () => {
    const w = new World();
    w.networkWithSubnet('10.0.0.0/24', tenantA);
    expect(() => w.networkWithSubnet('10.0.0.0/24', tenantB)).not.toThrow();
  });

  it('derives gateway and pools, and checks explicit ones', () => {
    const w = new World();
    const { subnetId } = w.networkWithSubnet('10.1.0.0/24');
    const networkId = w.state.subnetNetwork[subnetId]!;
    const s = w.state.networks[networkId]!.subnets[subnetId]!;
    expect(s.gatewayIp).toBe('10.1.0.1');
    expect(s.allocationPools).toEqual([{ start: '10.1.0.2', end: '10.1.0.254' }]);
    expectError(() => w.decide('subnet.create', { networkId, cidr: '10.2.0.0/24', gatewayIp: '10.3.0.1' }, tenantA), ErrorCode.InvalidArgument, /gateway 10.3.0.1 is outside/);
    expectError(
      () => w.decide('subnet.create', { networkId, cidr: '10.2.0.0/24', allocationPools: [{ start: '10.2.0.1', end: '10.2.0.9' }] }, tenantA),
      ErrorCode.InvalidArgument,
      /includes the gateway/,
    );
    const v6 = w.run('subnet.create', { networkId, cidr: '2001:db8:1::/64' }, tenantA);
    expect(v6.event.data).toMatchObject({ ipVersion: 6, gatewayIp: '2001:db8:1::1' });
  });

  it("reports another tenant's network as not found", () => {
    const w = new World();
    const { networkId } = w.networkWithSubnet('10.0.0.0/24', tenantA);
    expectError(() => w.decide('subnet.create', { networkId, cidr: '10.9.0.0/24' }, tenantB), ErrorCode.NotFound, new RegExp(`network ${networkId} not found`));
  });
});

describe('ports', () => {
  it('allocates one address per subnet, a unique MAC, and releases on delete', () => {
    const w = new World();
    const { networkId } = w.networkWithSubnet('10.0.0.0/29');
    w.run('subnet.create', { networkId, cidr: '2001:db8::/64' }, tenantA);
    const p = w.run('port.create', { networkId }, tenantA);
    expect(p.event.type).toBe('ipam.PortCreated');
    const data = p.event.data as { fixedIps: { ip: string }[]; mac: string };
    expect(data.fixedIps.map((f) => f.ip).sort()).toEqual(['10.0.0.2', '2001:db8::2']);
    expect(data.mac).toMatch(/^02:53:54(:[0-9a-f]{2}){3}$/);
    w.run('port.delete', { id: p.resourceId }, tenantA);
    expect(Object.keys(w.state.networks[networkId]!.ports)).toEqual([]);
  });

  it('answers exhaustion with RESOURCE_EXHAUSTED naming the subnet', () => {
    const w = new World();
    const { networkId } = w.networkWithSubnet('10.0.0.0/29'); // .2-.6 usable: 5 addresses
    for (let i = 0; i < 5; i++) w.run('port.create', { networkId, fixedIps: [{ subnetId: Object.keys(w.state.networks[networkId]!.subnets)[0]! }] }, tenantA);
    expectError(() => w.decide('port.create', { networkId }, tenantA), ErrorCode.ResourceExhausted, /10.0.0.0\/29\) has no free address left in its allocation pools \(5 addresses\)/);
  });

  it('rejects an unknown network, an address outside the subnet, a duplicate address and MAC', () => {
    const w = new World();
    const { networkId, subnetId } = w.networkWithSubnet('10.0.0.0/24');
    expectError(() => w.decide('port.create', { networkId: '00000000-0000-4000-8000-00000000dead' }, tenantA), ErrorCode.NotFound, /network 00000000-0000-4000-8000-00000000dead not found/);
    expectError(() => w.decide('port.create', { networkId, fixedIps: [{ subnetId, ip: '10.0.1.5' }] }, tenantA), ErrorCode.InvalidArgument, /10.0.1.5 is outside subnet/);
    expectError(() => w.decide('port.create', { networkId, fixedIps: [{ ip: '192.168.0.1' }] }, tenantA), ErrorCode.InvalidArgument, /in no subnet of network/);
    expectError(() => w.decide('port.create', { networkId, fixedIps: [{ ip: '10.0.0.255' }] }, tenantA), ErrorCode.InvalidArgument, /broadcast/);
    expectError(() => w.decide('port.create', { networkId, fixedIps: [{ ip: '10.0.0.1' }] }, tenantA), ErrorCode.AlreadyExists, /already used by the subnet gateway/);
    const first = w.run('port.create', { networkId, mac: '02:00:00:00:00:01', fixedIps: [{ ip: '10.0.0.10' }] }, tenantA);
    expectError(() => w.decide('port.create', { networkId, fixedIps: [{ ip: '10.0.0.10' }] }, tenantA), ErrorCode.AlreadyExists, new RegExp(`already used by port ${first.resourceId}`));
    expectError(() => w.decide('port.create', { networkId, mac: '02-00-00-00-00-01' }, tenantA), ErrorCode.AlreadyExists, /MAC 02:00:00:00:00:01 is already used/);
    expect(() => w.decide('port.create', { networkId: 'not-a-uuid' }, tenantA)).toThrow(/lowercase UUID/);
  });

  it('binds only to registered hypervisors and moves between them', () => {
    const w = new World();
    const pool = w.run('pool.create', { name: 'h', cidr: '198.51.100.0/28', purpose: 'host-ip' }).resourceId;
    w.run('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.1', hostPoolId: pool });
    w.run('hypervisor.register', { id: 'hv2', vtepIp: '198.18.0.2', hostPoolId: pool });
    const { networkId } = w.networkWithSubnet();
    expectError(() => w.decide('port.create', { networkId, hostId: 'hv9' }, tenantA), ErrorCode.NotFound, /hypervisor hv9 not found/);
    const p = w.run('port.create', { networkId, hostId: 'hv1' }, tenantA);
    const move = w.run('port.bind', { id: p.resourceId, hostId: 'hv2' }, tenantA);
    expect(move.event.data).toEqual({ portId: p.resourceId, hostId: 'hv2', previousHostId: 'hv1' });
    expect(w.decide('port.bind', { id: p.resourceId, hostId: 'hv2' }, tenantA).kind).toBe('done');
    expectError(() => w.decide('hypervisor.deregister', { id: 'hv2' }, admin), ErrorCode.FailedPrecondition, /still hosts 1 port/);
  });

  it('never hands out an address twice, whatever the order of creates and deletes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant('create' as const), fc.nat(40)), { maxLength: 80 }), (ops) => {
        const w = new World();
        const { networkId } = w.networkWithSubnet('10.0.0.0/27');
        const ports: string[] = [];
        for (const op of ops) {
          if (op === 'create') {
            try {
              ports.push(w.run('port.create', { networkId }, tenantA).resourceId);
            } catch (e) {
              expect((e as StrataError).code).toBe(ErrorCode.ResourceExhausted);
            }
          } else if (ports.length > 0) {
            const [id] = ports.splice(op % ports.length, 1);
            w.run('port.delete', { id: id! }, tenantA);
          }
        }
        const ips = Object.values(w.state.networks[networkId]!.ports).flatMap((p) => p.fixedIps.map((f) => f.ip));
        expect(new Set(ips).size).toBe(ips.length);
        expect(ips).not.toContain('10.0.0.1');
      }),
      { numRuns: 50 },
    );
  });
});

describe('public resources', () => {
  it('allocates H-IPs, floating IPs and application prefixes from pools of the right purpose', () => {
    const w = new World();
    const hostPool = w.run('pool.create', { name: 'h', cidr: '198.51.100.0/30', purpose: 'host-ip' }).resourceId;
    const fipPool = w.run('pool.create', { name: 'f', cidr: '203.0.113.0/24', purpose: 'floating-ip' }).resourceId;
    const appPool = w.run('pool.create', { name: 'a', cidr: '203.0.112.0/24', purpose: 'application-prefix' }).resourceId;
    expectError(() => w.decide('pool.create', { name: 'x', cidr: '203.0.113.128/25', purpose: 'floating-ip' }), ErrorCode.InvalidArgument, /overlaps pool/);
    expectError(() => w.decide('pool.create', { name: 'x', cidr: '192.0.2.0/24', purpose: 'floating-ip' }, tenantA), ErrorCode.PermissionDenied, /admin token/);

    const hv = w.run('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.1', hostPoolId: hostPool });
    expect(hv.event.data).toMatchObject({ publicIp: '198.51.100.1' });
    w.run('hypervisor.register', { id: 'hv2', vtepIp: '198.18.0.2', hostPoolId: hostPool });
    expectError(() => w.decide('hypervisor.register', { id: 'hv3', vtepIp: '198.18.0.3', hostPoolId: hostPool }), ErrorCode.ResourceExhausted, /198.51.100.0\/30\) has no free address/);
    expectError(() => w.decide('hypervisor.register', { id: 'hv3', vtepIp: '198.18.0.1', hostPoolId: hostPool }), ErrorCode.AlreadyExists, /VTEP address 198.18.0.1 is already used by hypervisor hv1/);
    expectError(() => w.decide('hypervisor.register', { id: 'hv3', vtepIp: '198.18.0.3', hostPoolId: fipPool }), ErrorCode.InvalidArgument, /floating-ip pool; this needs a host-ip pool/);

    const fip = w.run('floatingip.create', { poolId: fipPool }, tenantA);
    expect(fip.event.data).toEqual({ floatingIpId: fip.resourceId, poolId: fipPool, address: '203.0.113.1' });
    // A description (Neutron's) travels in the event only when given, and is shown ('' when none).
    expect(w.state.cloud.floatingIps[fip.resourceId]!.description).toBe('');
    const described = w.run('floatingip.create', { poolId: fipPool, description: 'web front' }, tenantA);
    expect(described.event.data).toMatchObject({ address: '203.0.113.2', description: 'web front' });
    expect(w.state.cloud.floatingIps[described.resourceId]!.description).toBe('web front');
    w.run('floatingip.delete', { id: described.resourceId }, tenantA);
    expectError(() => w.decide('floatingip.create', { poolId: fipPool, address: '203.0.113.1' }, tenantB), ErrorCode.AlreadyExists, /^203\.0\.113\.1 is not available$/);
    expectError(() => w.decide('floatingip.delete', { id: fip.resourceId }, tenantB), ErrorCode.NotFound, /floating IP .* not found/);

    expectError(() => w.decide('appprefix.create', { poolId: appPool, length: 24 }, tenantA), ErrorCode.InvalidArgument, /\/29 to \/32 for IPv4, not \/24/);
    const app = w.run('appprefix.create', { poolId: appPool, length: 29 }, tenantA);
    expect(app.event.data).toMatchObject({ prefix: '203.0.112.0/29' });
    const next = w.run('appprefix.create', { poolId: appPool }, tenantA);
    expect(next.event.data).toMatchObject({ prefix: '203.0.112.8/32' });
    expectError(() => w.decide('appprefix.create', { poolId: appPool, prefix: '203.0.112.4/30' }, tenantA), ErrorCode.AlreadyExists, new RegExp(`overlaps allocated application prefix ${app.resourceId} \\(203.0.112.0/29\\)`));
    // Another tenant learns that the range is taken, not whose it is nor where it lies.
    expectError(() => w.decide('appprefix.create', { poolId: appPool, prefix: '203.0.112.4/30' }, tenantB), ErrorCode.AlreadyExists, /^203\.0\.112\.4\/30 is not available$/);
    expectError(() => w.decide('floatingip.create', { poolId: fipPool, address: '203.0.113.1' }, admin), ErrorCode.AlreadyExists, new RegExp(`allocated to fip:${fip.resourceId}`));
    expectError(() => w.decide('pool.delete', { id: appPool }), ErrorCode.FailedPrecondition, /still has 2 allocation/);
  });
});
