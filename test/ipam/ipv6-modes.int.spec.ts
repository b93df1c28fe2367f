/**
 * IPv6 modes through the real IPAM process: every refusal is a clear
 * INVALID_ARGUMENT and writes no event; valid modes are recorded and a port
 * on a SLAAC subnet gets the EUI-64 address of its MAC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { JetStreamEventStore, type EventStore } from '@strata/eventlog';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { expectRefusedWithoutEvents, type Refusal } from '@strata/testing/refusals';
import type { Ipv6Mode } from '@strata/contracts';
import { IpamClient, startIpam, type IpamProcess, type Principal } from '../support/ipam.js';

const a: Principal = { tenant: 'tenant-a', admin: false };

describe('IPv6 modes: refusals write nothing', () => {
  let nats: StrataNats;
  let ipam: IpamProcess;
  let client: IpamClient;
  let nc: NatsConnection;
  let store: EventStore;
  let networkId: string;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    await ipam.ready;
    client = new IpamClient(await nats.connect('api'));
    nc = await nats.connect('api');
    store = await JetStreamEventStore.open(nc);
    networkId = (await client.command('network.create', { name: 'n' }, a)).id;
  });

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await ipam?.stop();
    await nats?.stop();
  });

  it('refuses modes on IPv4, mismatched modes, auto-address modes off /64, modes without DHCP or gateway, unknown names, a chosen address on SLAAC', async () => {
    const slaac = await client.command('subnet.create', { networkId, cidr: '2001:db8:9::/64', ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }, a);
    const subnet = (body: Record<string, unknown>): (() => Promise<unknown>) => () => client.command('subnet.create', { networkId, ...body } as never, a);
    const cases: Refusal[] = [
      { what: 'RA mode on IPv4', attempt: subnet({ cidr: '10.0.0.0/24', ipv6RaMode: 'slaac' }), code: 'INVALID_ARGUMENT', message: 'ipv6RaMode: IPv6 modes cannot be set on an IPv4 subnet (10.0.0.0/24)' },
      { what: 'address mode on IPv4', attempt: subnet({ cidr: '10.0.0.0/24', ipv6AddressMode: 'dhcpv6-stateful' }), code: 'INVALID_ARGUMENT', message: 'ipv6AddressMode: IPv6 modes cannot be set on an IPv4 subnet (10.0.0.0/24)' },
      ...(
        [
          ['slaac', 'dhcpv6-stateful'],
          ['slaac', 'dhcpv6-stateless'],
          ['dhcpv6-stateful', 'slaac'],
          ['dhcpv6-stateful', 'dhcpv6-stateless'],
          ['dhcpv6-stateless', 'slaac'],
          ['dhcpv6-stateless', 'dhcpv6-stateful'],
        ] as [Ipv6Mode, Ipv6Mode][]
      ).map(([ra, addr]) => ({
        what: `${ra} + ${addr}`,
        attempt: subnet({ cidr: '2001:db8:1::/64', ipv6RaMode: ra, ipv6AddressMode: addr }),
        code: 'INVALID_ARGUMENT',
        message: `ipv6RaMode ${ra} with ipv6AddressMode ${addr} is not a valid combination: when both are set they must be equal`,
      })),
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
    ];
    await expectRefusedWithoutEvents(store, cases);
  });

  it('records valid modes and gives a port on the SLAAC subnet its EUI-64 address', async () => {
    const s = await client.command('subnet.create', { networkId, cidr: '2001:db8:a::/64', ipv6AddressMode: 'dhcpv6-stateless' }, a);
    expect(s).toMatchObject({ ipv6RaMode: null, ipv6AddressMode: 'dhcpv6-stateless' });
    const port = await client.command('port.create', { networkId, mac: '52:54:00:12:34:56', fixedIps: [{ subnetId: s.id }] }, a);
    expect(port.fixedIps).toEqual([{ subnetId: s.id, ip: '2001:db8:a:0:5054:ff:fe12:3456' }]);
  });
});
