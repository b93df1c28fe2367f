import { describe, expect, it } from 'vitest';
import { admin, code, tenantA, tenantB, World, type Caller } from './test/given.js';

/** A world with the operator's routed pools 198.51.100.0/24 and 2001:db8:100::/48. */
function routedWorld(): World {
  const w = new World();
  w.run('pool.create', { name: 'routed4', cidr: '198.51.100.0/24', purpose: 'routed' }, admin);
  w.run('pool.create', { name: 'routed6', cidr: '2001:db8:100::/48', purpose: 'routed' }, admin);
  return w;
}

const routedNetwork = (w: World, caller: Caller): string => w.run('network.create', { name: 'r', routed: true }, caller).resourceId;
const subnet = (w: World, networkId: string, cidr: string, caller: Caller) => () => w.decide('subnet.create', { networkId, cidr }, caller);

describe('routed subnets lie in the operator routed address space', () => {
  it('accepts a routed subnet inside a routed pool, IPv4 and IPv6', () => {
    const w = routedWorld();
    const net = routedNetwork(w, tenantA);
    expect(subnet(w, net, '198.51.100.0/26', tenantA)().kind).toBe('append');
    expect(subnet(w, net, '2001:db8:100:1::/64', tenantA)().kind).toBe('append');
    expect(subnet(w, net, '198.51.100.0/24', tenantA)().kind).toBe('append');
  });

  it('refuses a routed subnet outside every routed pool, a default route, one straddling a pool edge, and one in a pool of the other IP version', () => {
    const w = routedWorld();
    const net = routedNetwork(w, tenantA);
    for (const cidr of ['0.0.0.0/0', '10.0.0.0/24', '198.51.100.0/23', '198.51.101.0/24', '::/0', '2001:db8::/32', '2001:db8:101::/64']) {
      expect(code(subnet(w, net, cidr, tenantA)), cidr).toBe(
        `INVALID_ARGUMENT: ${cidr} is outside the routed address space: network ${net} is routed, so its subnets are advertised to the fabric and must lie inside a routed pool of IPv${cidr.includes(':') ? 6 : 4}; an operator must create a \`routed\` pool containing ${cidr} (strata pool create --purpose routed)`,
      );
    }
  });

  it('refuses a routed subnet when only pools of other purposes contain it; a non-routed network takes any subnet', () => {
    const w = new World();
    w.run('pool.create', { name: 'fip', cidr: '203.0.113.0/24', purpose: 'floating-ip' }, admin);
    const net = routedNetwork(w, tenantA);
    expect(code(subnet(w, net, '203.0.113.0/26', tenantA))).toMatch(/^INVALID_ARGUMENT: 203.0.113.0\/26 is outside the routed address space/);
    const plain = w.run('network.create', { name: 'p' }, tenantA).resourceId;
    expect(subnet(w, plain, '0.0.0.0/0', tenantA)().kind).toBe('append');
  });

  it("refuses a routed subnet overlapping another tenant's, without naming it; the same tenant's other network may overlap", () => {
    const w = routedWorld();
    const a = routedNetwork(w, tenantA);
    w.run('subnet.create', { networkId: a, cidr: '198.51.100.0/25' }, tenantA);
    w.run('subnet.create', { networkId: a, cidr: '2001:db8:100:1::/64' }, tenantA);
    const b = routedNetwork(w, tenantB);
    for (const cidr of ['198.51.100.0/25', '198.51.100.64/26', '198.51.100.0/24', '2001:db8:100:1::/64', '2001:db8:100::/56']) {
      const message = code(subnet(w, b, cidr, tenantB));
      expect(message, cidr).toBe(`ALREADY_EXISTS: ${cidr} overlaps another tenant's routed subnet`);
    }
    expect(subnet(w, b, '198.51.100.128/25', tenantB)().kind).toBe('append');
    expect(subnet(w, b, '2001:db8:100:2::/64', tenantB)().kind).toBe('append');
    const a2 = routedNetwork(w, tenantA);
    expect(subnet(w, a2, '198.51.100.0/26', tenantA)().kind).toBe('append');
    // A non-routed network of another tenant is not advertised: it may reuse the range.
    const plain = w.run('network.create', { name: 'p' }, tenantB).resourceId;
    expect(subnet(w, plain, '198.51.100.0/25', tenantB)().kind).toBe('append');
  });

  it('keeps a routed pool while a routed subnet lies in it, and is admin-only', () => {
    const w = new World();
    const pool = w.run('pool.create', { name: 'routed4', cidr: '198.51.100.0/24', purpose: 'routed' }, admin).resourceId;
    expect(code(() => w.decide('pool.create', { name: 'mine', cidr: '192.0.2.0/24', purpose: 'routed' }, tenantA))).toMatch(/^PERMISSION_DENIED/);
    const net = routedNetwork(w, tenantA);
    const s = w.run('subnet.create', { networkId: net, cidr: '198.51.100.0/26' }, tenantA).resourceId;
    expect(code(() => w.decide('pool.delete', { id: pool }, admin))).toBe(
      `FAILED_PRECONDITION: routed pool ${pool} (198.51.100.0/24) still contains 1 routed subnet(s): ${s}; delete them first`,
    );
    w.run('subnet.delete', { id: s }, tenantA);
    expect(w.decide('pool.delete', { id: pool }, admin).kind).toBe('append');
  });
});
