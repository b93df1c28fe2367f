/**
 * Two tenants with the same address behind one physical port (two VLANs):
 * each tenant's VMs must reach their own tenant's server and never the
 * other's. Shared by the EVPN and OVSDB switch tests (test/bgp, test/l2gw).
 */
import { expect } from 'vitest';
import { capture, type Vm } from '@strata/lab';

export interface SameAddressServers {
  /** The servers' shared address. */
  ip: string;
  /** Tenant A's VMs and its server's MAC. */
  a: { vms: Vm[]; serverMac: string };
  /** Tenant B's VM, its server's MAC and the namespace (interface eth0) the server is in. */
  b: { vm: Vm; serverMac: string; serverNs: string };
}

/**
 * Every VM pings the address while tenant B's server is watched: B's server
 * sees B's VM and none of A's; each VM resolved the address to its own
 * tenant's server.
 */
export async function expectEachTenantReachesItsOwnServer(s: SameAddressServers): Promise<void> {
  const seenByB = capture(s.b.serverNs, 'eth0', 'icmp or arp', 4);
  await seenByB.started;
  for (const v of s.a.vms) expect(await v.pingOnce(s.ip)).toBe(true);
  expect(await s.b.vm.pingOnce(s.ip)).toBe(true);
  const lines = (await seenByB.lines).join('\n');
  expect(lines).toContain(s.b.vm.port.mac);
  for (const v of s.a.vms) expect(lines).not.toContain(v.port.mac);
  expect(await s.b.vm.ns.exec(['ip', 'neigh', 'show', s.ip])).toContain(s.b.serverMac);
  for (const v of s.a.vms) expect(await v.ns.exec(['ip', 'neigh', 'show', s.ip])).toContain(s.a.serverMac);
}
