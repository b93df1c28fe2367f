/**
 * Routed subnets lie in the operator's routed address space (docs/architecture.md,
 * "IPAM"): against the real IPAM process over NATS, each refusal names the
 * CIDR and says what is wrong, and writes no event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { JetStreamEventStore, type EventStore } from '@strata/eventlog';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { expectRefusedWithoutEvents } from '@strata/testing/refusals';
import { IpamClient, startIpam, type IpamProcess, type Principal } from '../support/ipam.js';

const a: Principal = { tenant: 'tenant-a', admin: false };
const b: Principal = { tenant: 'tenant-b', admin: false };
const outside = (cidr: string, networkId: string, v: 4 | 6): string =>
  `${cidr} is outside the routed address space: network ${networkId} is routed, so its subnets are advertised to the fabric and must lie inside a routed pool of IPv${v}; an operator must create a \`routed\` pool containing ${cidr} (strata pool create --purpose routed)`;

describe('routed subnets inside the routed pools', () => {
  let nats: StrataNats;
  let ipam: IpamProcess;
  let client: IpamClient;
  let nc: NatsConnection;
  let store: EventStore;
  let pool4: string;
  let netA: string;
  let netB: string;
  let subnetA: string;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    await ipam.ready;
    client = new IpamClient(await nats.connect('api'));
    nc = await nats.connect('api');
    store = await JetStreamEventStore.open(nc);
    pool4 = (await client.command('pool.create', { name: 'routed4', cidr: '198.51.100.0/24', purpose: 'routed' })).id;
    await client.command('pool.create', { name: 'routed6', cidr: '2001:db8:100::/48', purpose: 'routed' });
    await client.command('pool.create', { name: 'fip', cidr: '203.0.113.0/24', purpose: 'floating-ip' });
    netA = (await client.command('network.create', { name: 'a', routed: true }, a)).id;
    netB = (await client.command('network.create', { name: 'b', routed: true }, b)).id;
    subnetA = (await client.command('subnet.create', { networkId: netA, cidr: '198.51.100.0/25' }, a)).id;
    await client.command('subnet.create', { networkId: netA, cidr: '2001:db8:100:1::/64' }, a);
  });

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await ipam?.stop();
    await nats?.stop();
  });

  it('refuses routed subnets outside, straddling or overlapping another tenant, a tenant pool and deleting a pool in use; writes nothing', async () => {
    const subnet = (networkId: string, cidr: string, who: Principal) => () => client.command('subnet.create', { networkId, cidr }, who);
    await expectRefusedWithoutEvents(store, [
      { what: 'a default route', attempt: subnet(netB, '0.0.0.0/0', b), code: 'INVALID_ARGUMENT', message: outside('0.0.0.0/0', netB, 4) },
      { what: 'an IPv6 default route', attempt: subnet(netB, '::/0', b), code: 'INVALID_ARGUMENT', message: outside('::/0', netB, 6) },
      { what: "another organisation's prefix", attempt: subnet(netB, '192.0.2.0/24', b), code: 'INVALID_ARGUMENT', message: outside('192.0.2.0/24', netB, 4) },
      { what: 'a floating-IP pool is not routed space', attempt: subnet(netB, '203.0.113.0/28', b), code: 'INVALID_ARGUMENT', message: outside('203.0.113.0/28', netB, 4) },
      { what: 'straddling the pool edge', attempt: subnet(netB, '198.51.100.0/23', b), code: 'INVALID_ARGUMENT', message: outside('198.51.100.0/23', netB, 4) },
      { what: 'IPv6 outside', attempt: subnet(netB, '2001:db8:200::/64', b), code: 'INVALID_ARGUMENT', message: outside('2001:db8:200::/64', netB, 6) },
      { what: "overlapping tenant-a's", attempt: subnet(netB, '198.51.100.64/26', b), code: 'ALREADY_EXISTS', message: "198.51.100.64/26 overlaps another tenant's routed subnet" },
      { what: "covering tenant-a's IPv6", attempt: subnet(netB, '2001:db8:100::/56', b), code: 'ALREADY_EXISTS', message: "2001:db8:100::/56 overlaps another tenant's routed subnet" },
      {
        what: 'a tenant creating a routed pool',
        attempt: () => client.command('pool.create', { name: 'mine', cidr: '192.0.2.0/24', purpose: 'routed' }, b),
        code: 'PERMISSION_DENIED',
        message: /needs an admin token/,
      },
      {
        what: 'deleting the routed pool holding a routed subnet',
        attempt: () => client.command('pool.delete', { id: pool4 }),
        code: 'FAILED_PRECONDITION',
        message: `routed pool ${pool4} (198.51.100.0/24) still contains 1 routed subnet(s): ${subnetA}; delete them first`,
      },
    ]);
  });

  it("accepts tenant-b's routed subnet beside tenant-a's, and the pool's deletion once its subnets are gone", async () => {
    const s = await client.command('subnet.create', { networkId: netB, cidr: '198.51.100.128/25' }, b);
    expect(s.cidr).toBe('198.51.100.128/25');
    await client.command('subnet.delete', { id: s.id }, b);
    await client.command('subnet.delete', { id: subnetA }, a);
    await client.command('pool.delete', { id: pool4 });
    await expect(client.command('subnet.create', { networkId: netA, cidr: '198.51.100.0/25' }, a)).rejects.toThrow(/is outside the routed address space/);
  });
});
