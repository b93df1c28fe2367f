/**
 * Issue 15, IPv6 modes: bad ipv6_ra_mode / ipv6_address_mode input through
 * the real gRPC API and services (startHostileControlPlane: production NATS
 * users, ipam x2, the API as processes). Attack: modes on an IPv4 subnet,
 * every mismatched pair of Neutron's table, SLAAC off /64, a name that is
 * no mode, and an address forced onto a SLAAC subnet. Must: INVALID_ARGUMENT
 * naming the field, a message saying what is wrong, and no event. (Before
 * the modes existed the API's strict decoding refused these requests for an
 * unknown field, so the fields and messages asserted here would not match
 * there: reasoned, not run against the old code.)
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStrataRoot } from '@strata/proto';
import { startApiUnderAttack, type ApiUnderAttack, type Outcome } from './api-boundary.js';

const SUBNET = '/strata.v1.SubnetService/CreateSubnet';
const PORT = '/strata.v1.PortService/CreatePort';
const MODES = ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'] as const;

describe('hostile: IPv6 modes the API must refuse without writing', () => {
  let api: ApiUnderAttack;
  let networkId: string;
  const decode = <T>(type: string, r: Outcome): T => loadStrataRoot().lookupType(type).toObject(loadStrataRoot().lookupType(type).decode(r.response!)) as T;
  const send = (path: string, body: Record<string, unknown>): Promise<Outcome> => api.call(path, api.requestType(path).encode(body).finish());

  beforeAll(async () => {
    api = await startApiUnderAttack();
    const net = await send('/strata.v1.NetworkService/CreateNetwork', { tenant: 'tenant-a', name: 'v6' });
    expect(net.code).toBe(status.OK);
    networkId = decode<{ id: string }>('strata.v1.Network', net).id;
  });
  afterAll(async () => api?.stop());

  async function refused(path: string, body: Record<string, unknown>, field: string, details: string | RegExp): Promise<void> {
    const before = await api.lastSeq();
    const r = await send(path, body);
    expect(r).toMatchObject({ code: status.INVALID_ARGUMENT, field });
    if (typeof details === 'string') expect(r.details).toBe(details);
    else expect(r.details).toMatch(details);
    expect(await api.lastSeq()).toBe(before);
  }

  it('an RA or address mode on an IPv4 subnet', async () => {
    await refused(SUBNET, { networkId, cidr: '10.0.0.0/24', ipv6RaMode: 'slaac' }, 'ipv6RaMode', 'ipv6RaMode: IPv6 modes cannot be set on an IPv4 subnet (10.0.0.0/24)');
    await refused(SUBNET, { networkId, cidr: '10.0.0.0/24', ipv6AddressMode: 'dhcpv6-stateless' }, 'ipv6AddressMode', 'ipv6AddressMode: IPv6 modes cannot be set on an IPv4 subnet (10.0.0.0/24)');
  });

  it('every invalid combination of RA and address mode', async () => {
    for (const ra of MODES) {
      for (const addr of MODES.filter((m) => m !== ra)) {
        await refused(
          SUBNET,
          { networkId, cidr: '2001:db8:1::/64', ipv6RaMode: ra, ipv6AddressMode: addr },
          'ipv6AddressMode',
          `ipv6RaMode ${ra} with ipv6AddressMode ${addr} is not a valid combination: when both are set they must be equal`,
        );
      }
    }
  });

  it('SLAAC on a prefix that is not /64, and a name that is no mode', async () => {
    await refused(SUBNET, { networkId, cidr: '2001:db8:2::/80', ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }, 'ipv6RaMode', /slaac needs a \/64 prefix .* is \/80$/);
    await refused(SUBNET, { networkId, cidr: '2001:db8:3::/64', ipv6AddressMode: 'EUI64' }, 'ipv6AddressMode', 'ipv6AddressMode: "EUI64" is not an IPv6 mode; one of slaac, dhcpv6-stateful, dhcpv6-stateless');
  });

  it('an address forced onto a SLAAC subnet; the same port without it gets its EUI-64 address', async () => {
    const created = await send(SUBNET, { networkId, cidr: '2001:db8:4::/64', ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' });
    expect(created.code).toBe(status.OK);
    const subnet = decode<{ id: string; ipv6RaMode: string }>('strata.v1.Subnet', created);
    expect(subnet.ipv6RaMode).toBe('slaac');
    await refused(PORT, { networkId, mac: '52:54:00:12:34:56', fixedIps: [{ subnetId: subnet.id, ip: '2001:db8:4::10' }] }, 'fixedIps.0.ip', /cannot be assigned on subnet .*EUI-64 of the port's MAC/);
    const port = await send(PORT, { networkId, mac: '52:54:00:12:34:56', fixedIps: [{ subnetId: subnet.id }] });
    expect(port.code).toBe(status.OK);
    expect(decode<{ fixedIps: { ip: string }[] }>('strata.v1.Port', port).fixedIps.map((f) => f.ip)).toEqual(['2001:db8:4:0:5054:ff:fe12:3456']);
  });
});
