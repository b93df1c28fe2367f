/**
 * Every invalid input gets a clear error and writes no event: the log's last
 * sequence is unchanged after each rejected command (IPv6 modes included).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { StrataError } from '@strata/errors';
import { JetStreamEventStore, type EventStore } from '@strata/eventlog';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import type { IpamCommandInput, IpamCommandName } from '@strata/contracts';
import { expectRefusedWithoutEvents } from '@strata/testing/refusals';
import { IpamClient, startIpam, type IpamProcess, type Principal } from '../support/ipam.js';

const a: Principal = { tenant: 'tenant-a', admin: false };
const b: Principal = { tenant: 'tenant-b', admin: false };

describe('invalid IPAM input', () => {
  let nats: StrataNats;
  let ipam: IpamProcess;
  let client: IpamClient;
  let nc: NatsConnection;
  let store: EventStore;
  let networkId: string;
  let subnetId: string;
  let fipPool: string;
  let portId: string;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, { ...nats.env('ipam'), IPAM_VNI_MIN: '5000', IPAM_VNI_MAX: '5002' });
    await ipam.ready;
    client = new IpamClient(await nats.connect('api'));
    nc = await nats.connect('api');
    store = await JetStreamEventStore.open(nc);
    networkId = (await client.command('network.create', { name: 'n' }, a)).id;
    subnetId = (await client.command('subnet.create', { networkId, cidr: '10.0.0.0/29' }, a)).id;
    fipPool = (await client.command('pool.create', { name: 'fip', cidr: '203.0.113.0/30', purpose: 'floating-ip' })).id;
    portId = (await client.command('port.create', { networkId, mac: '02:00:00:00:00:01', fixedIps: [{ ip: '10.0.0.2' }] }, a)).id;
  });

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await ipam?.stop();
    await nats?.stop();
  });

  async function rejected<K extends IpamCommandName>(op: K, body: IpamCommandInput<K>, who: Principal, code: string, message: RegExp): Promise<void> {
    const before = await store.lastSeq();
    const err = await client.command(op, body, who).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, `${op} should be rejected`).toBeInstanceOf(StrataError);
    expect((err as StrataError).code).toBe(code);
    expect((err as StrataError).message).toMatch(message);
    expect(await store.lastSeq()).toBe(before);
  }

  it('bad CIDR', () => rejected('subnet.create', { networkId, cidr: '10.0.0.0/40' }, a, 'INVALID_ARGUMENT', /cidr: "10.0.0.0\/40" has an invalid prefix length/));
  it('CIDR with host bits', () => rejected('subnet.create', { networkId, cidr: '10.0.1.7/24' }, a, 'INVALID_ARGUMENT', /did you mean 10.0.1.0\/24/));
  it('overlapping subnet', () => rejected('subnet.create', { networkId, cidr: '10.0.0.0/28' }, a, 'INVALID_ARGUMENT', /10.0.0.0\/28 overlaps subnet .* \(10.0.0.0\/29\)/));
  it('unknown network', () => rejected('port.create', { networkId: '11111111-1111-4111-8111-111111111111' }, a, 'NOT_FOUND', /network 11111111-1111-4111-8111-111111111111 not found/));
  it('IP outside the subnet', () => rejected('port.create', { networkId, fixedIps: [{ subnetId, ip: '10.0.0.9' }] }, a, 'INVALID_ARGUMENT', /address 10.0.0.9 is outside subnet/));
  it('duplicate IP', () => rejected('port.create', { networkId, fixedIps: [{ ip: '10.0.0.2' }] }, a, 'ALREADY_EXISTS', new RegExp(`10.0.0.2 .* already used by port ${portId}`)));
  it('duplicate MAC', () => rejected('port.create', { networkId, mac: '02:00:00:00:00:01' }, a, 'ALREADY_EXISTS', /MAC 02:00:00:00:00:01 is already used/));
  it('malformed MAC', () => rejected('port.create', { networkId, mac: '02:00:00:00:00' }, a, 'INVALID_ARGUMENT', /mac: must be a MAC address/));
  it('malformed id', () => rejected('port.delete', { id: 'port-1' }, a, 'INVALID_ARGUMENT', /id: must be a lowercase UUID/));
  it("another tenant's network", () => rejected('port.create', { networkId }, b, 'NOT_FOUND', new RegExp(`network ${networkId} not found`)));
  it("another tenant's port", () => rejected('port.delete', { id: portId }, b, 'NOT_FOUND', new RegExp(`port ${portId} not found`)));
  it('acting for another tenant', () => rejected('network.create', { name: 'x', tenant: 'tenant-b' }, a, 'PERMISSION_DENIED', /tenant tenant-a may not create resources for tenant tenant-b/));
  it('tenant creating a pool', () => rejected('pool.create', { name: 'x', cidr: '198.51.100.0/24', purpose: 'floating-ip' }, a, 'PERMISSION_DENIED', /needs an admin token/));
  it('unknown pool', () => rejected('floatingip.create', { poolId: '22222222-2222-4222-8222-222222222222' }, a, 'NOT_FOUND', /pool 22222222-2222-4222-8222-222222222222 not found/));

  it('IPv6 modes: on IPv4, mismatched, auto-address off /64, without DHCP or gateway, unknown names, a chosen address on SLAAC', async () => {
    const slaac = await client.command('subnet.create', { networkId, cidr: '2001:db8:9::/64', ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }, a);
    const subnet = (body: Record<string, unknown>): (() => Promise<unknown>) => () => client.command('subnet.create', { networkId, ...body } as never, a);
    const mismatched = (
      [
        ['slaac', 'dhcpv6-stateful'],
        ['slaac', 'dhcpv6-stateless'],
        ['dhcpv6-stateful', 'slaac'],
        ['dhcpv6-stateful', 'dhcpv6-stateless'],
        ['dhcpv6-stateless', 'slaac'],
        ['dhcpv6-stateless', 'dhcpv6-stateful'],
      ] as const
    ).map(([ra, addr]) => ({
      what: `${ra} + ${addr}`,
      attempt: subnet({ cidr: '2001:db8:1::/64', ipv6RaMode: ra, ipv6AddressMode: addr }),
      code: 'INVALID_ARGUMENT',
      message: `ipv6RaMode ${ra} with ipv6AddressMode ${addr} is not a valid combination: when both are set they must be equal`,
    }));
    await expectRefusedWithoutEvents(store, [
      { what: 'RA mode on IPv4', attempt: subnet({ cidr: '10.1.0.0/24', ipv6RaMode: 'slaac' }), code: 'INVALID_ARGUMENT', message: 'ipv6RaMode: IPv6 modes cannot be set on an IPv4 subnet (10.1.0.0/24)' },
      { what: 'address mode on IPv4', attempt: subnet({ cidr: '10.1.0.0/24', ipv6AddressMode: 'dhcpv6-stateful' }), code: 'INVALID_ARGUMENT', message: 'ipv6AddressMode: IPv6 modes cannot be set on an IPv4 subnet (10.1.0.0/24)' },
      ...mismatched,
      { what: 'SLAAC on a /80', attempt: subnet({ cidr: '2001:db8:2::/80', ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }), code: 'INVALID_ARGUMENT', message: /slaac needs a \/64 prefix .* 2001:db8:2::\/80 is \/80/ },
      { what: 'stateless on a /56', attempt: subnet({ cidr: '2001:db8:100::/56', ipv6AddressMode: 'dhcpv6-stateless' }), code: 'INVALID_ARGUMENT', message: /dhcpv6-stateless needs a \/64 prefix/ },
      { what: 'modes without DHCP', attempt: subnet({ cidr: '2001:db8:3::/64', ipv6RaMode: 'slaac', enableDhcp: false }), code: 'INVALID_ARGUMENT', message: /need DHCP enabled/ },
      { what: 'modes without gateway', attempt: subnet({ cidr: '2001:db8:4::/64', ipv6RaMode: 'slaac', gatewayIp: null }), code: 'INVALID_ARGUMENT', message: /need a gateway/ },
      { what: 'unknown mode name', attempt: subnet({ cidr: '2001:db8:5::/64', ipv6RaMode: 'eui-64' }), code: 'INVALID_ARGUMENT', message: /ipv6RaMode/ },
      {
        what: 'chosen address on a SLAAC subnet',
        attempt: () => client.command('port.create', { networkId, fixedIps: [{ subnetId: slaac.id, ip: '2001:db8:9::10' }] }, a),
        code: 'INVALID_ARGUMENT',
        message: /address 2001:db8:9::10 cannot be assigned on subnet .* EUI-64 of the port's MAC/,
      },
    ]);
  });

  it('IPv6 modes: valid ones are recorded, and a port on a DHCPv6-stateless subnet gets the EUI-64 address of its MAC', async () => {
    const s = await client.command('subnet.create', { networkId, cidr: '2001:db8:a::/64', ipv6AddressMode: 'dhcpv6-stateless' }, a);
    expect(s).toMatchObject({ ipv6RaMode: null, ipv6AddressMode: 'dhcpv6-stateless' });
    const port = await client.command('port.create', { networkId, mac: '52:54:00:12:34:56', fixedIps: [{ subnetId: s.id }] }, a);
    expect(port.fixedIps).toEqual([{ subnetId: s.id, ip: '2001:db8:a:0:5054:ff:fe12:3456' }]);
  });

  it('exhausted subnet pool', async () => {
    for (let i = 0; i < 4; i++) await client.command('port.create', { networkId }, a); // .3-.6
    await rejected('port.create', { networkId }, a, 'RESOURCE_EXHAUSTED', /has no free address left in its allocation pools \(5 addresses\)/);
  });

  it('exhausted floating-IP pool', async () => {
    await client.command('floatingip.create', { poolId: fipPool }, a);
    await client.command('floatingip.create', { poolId: fipPool }, a);
    await rejected('floatingip.create', { poolId: fipPool }, b, 'RESOURCE_EXHAUSTED', /203.0.113.0\/30\) has no free address left/);
  });

  it('exhausted VNI range', async () => {
    await client.command('network.create', { name: 'n2' }, a);
    await client.command('network.create', { name: 'n3' }, b);
    await rejected('network.create', { name: 'n4' }, b, 'RESOURCE_EXHAUSTED', /no free VNI: all 3 VNIs of 5000-5002 are in use/);
  });
});
