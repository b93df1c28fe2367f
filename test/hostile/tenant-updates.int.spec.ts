/**
 * Tenant B attacks tenant A's resources through the update operations,
 * against the control plane as production runs it (real nats-server with
 * the production users, IPAM x2, the api, the real `strata` CLI): every
 * attempt is refused as "not found" (as a read is: B learns nothing, not
 * even that the id exists), nothing is written, and A's resources are as
 * they were, revision included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

interface Revised {
  id: string;
  revision: number;
}

describe("tenant B cannot update tenant A's resources", () => {
  let t: TenantPlane;
  let net: Revised;
  let subnet: Revised;
  let port: Revised & { fixedIps: { ip: string }[] };
  let router: Revised;
  let bPort: Revised;

  beforeAll(async () => {
    t = await startTenantPlane(['tenant-a', 'tenant-b']);
    net = await t.json('tenant-a', ['network', 'create', '--name', 'a-net']);
    subnet = await t.json('tenant-a', ['subnet', 'create', '--network', net.id, '--cidr', '10.0.0.0/24']);
    port = await t.json('tenant-a', ['port', 'create', '--network', net.id, '--fixed-ip', 'ip=10.0.0.10']);
    router = await t.json('tenant-a', ['router', 'create', '--name', 'a-router']);
    const bNet = await t.json<Revised>('tenant-b', ['network', 'create', '--name', 'b-net']);
    await t.json('tenant-b', ['subnet', 'create', '--network', bNet.id, '--cidr', '10.0.0.0/24']);
    bPort = await t.json('tenant-b', ['port', 'create', '--network', bNet.id]);
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
  });

  it('every update of A’s port, network, subnet and router by B is NOT_FOUND and writes nothing', async () => {
    const snapshot = async () => ({
      net: await t.json('tenant-a', ['network', 'show', net.id]),
      subnet: await t.json('tenant-a', ['subnet', 'show', subnet.id]),
      port: await t.json('tenant-a', ['port', 'show', port.id]),
      router: await t.json('tenant-a', ['router', 'show', router.id]),
    });
    const before = await snapshot();
    const attacks: Array<[string[], string]> = [
      [['port', 'update', port.id, '--name', 'pwned'], `port ${port.id} not found`],
      [['port', 'update', port.id, '--disable'], `port ${port.id} not found`],
      [['port', 'update', port.id, '--no-fixed-ips'], `port ${port.id} not found`],
      [['port', 'update', port.id, '--allowed-address-pair', 'ip=0.0.0.0/0'], `port ${port.id} not found`],
      [['port', 'update', port.id, '--name', 'pwned', '--expected-revision', String(port.revision)], `port ${port.id} not found`],
      [['port', 'set', port.id, '--allowed-address-pair', 'ip=10.0.0.0/24'], `port ${port.id} not found`],
      [['network', 'update', net.id, '--mtu', '600'], `network ${net.id} not found`],
      [['network', 'update', net.id, '--name', 'pwned'], `network ${net.id} not found`],
      [['subnet', 'update', subnet.id, '--no-dhcp'], `subnet ${subnet.id} not found`],
      [['subnet', 'update', subnet.id, '--host-route', 'destination=0.0.0.0/0,nexthop=10.0.0.66'], `subnet ${subnet.id} not found`],
      [['router', 'update', router.id, '--name', 'pwned'], `router ${router.id} not found`],
      // B's own port cannot take an address of A's subnet: the subnet is not on B's network.
      [['port', 'update', bPort.id, '--fixed-ip', `subnet=${subnet.id},ip=10.0.0.10`], `subnet ${subnet.id} is not a subnet of network`],
    ];
    for (const [argv, message] of attacks) await t.expectRefused('tenant-b', argv, message);
    expect(await snapshot()).toEqual(before);
  });
});
