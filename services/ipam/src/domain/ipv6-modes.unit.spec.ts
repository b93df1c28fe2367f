import { describe, expect, it } from 'vitest';
import { ErrorCode, StrataError, ValidationError } from '@strata/errors';
import { IPV6_MODES, type Ipv6Mode } from '@strata/contracts';
import { checkIpv6Modes, type SubnetModesInput } from './ipv6-modes.js';
import { tenantA, World } from './test/given.js';

const v6 = (over: Partial<SubnetModesInput>): SubnetModesInput => ({
  cidr: '2001:db8:1::/64',
  gatewayIp: '2001:db8:1::1',
  enableDhcp: true,
  ipv6RaMode: null,
  ipv6AddressMode: null,
  ...over,
});

function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('IPv6 modes: Neutron combination table', () => {
  const modes: Array<Ipv6Mode | null> = [null, ...IPV6_MODES];
  for (const ra of modes) {
    for (const addr of modes) {
      const valid = ra === null || addr === null || ra === addr;
      it(`ra ${ra ?? 'unset'} + address ${addr ?? 'unset'}: ${valid ? 'valid' : 'refused'}`, () => {
        const input = v6({ ipv6RaMode: ra, ipv6AddressMode: addr });
        if (valid) expect(() => checkIpv6Modes(input)).not.toThrow();
        else expect(refusal(() => checkIpv6Modes(input)).message).toMatch(`ipv6RaMode ${ra} with ipv6AddressMode ${addr} is not a valid combination`);
      });
    }
  }
});

describe('IPv6 modes: other refusals', () => {
  it('refuses either mode on an IPv4 subnet, naming the field', () => {
    const e = refusal(() => checkIpv6Modes(v6({ cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', ipv6RaMode: 'slaac' })));
    expect(e.message).toBe('ipv6RaMode: IPv6 modes cannot be set on an IPv4 subnet (10.0.0.0/24)');
    expect(e.details).toMatchObject({ field: 'ipv6RaMode' });
    const f = refusal(() => checkIpv6Modes(v6({ cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', ipv6AddressMode: 'dhcpv6-stateful' })));
    expect(f.details).toMatchObject({ field: 'ipv6AddressMode' });
  });

  it('refuses SLAAC and DHCPv6-stateless (also as the RA mode alone) on a prefix that is not /64; stateful is fine', () => {
    for (const m of [{ ipv6AddressMode: 'slaac' }, { ipv6RaMode: 'dhcpv6-stateless' }, { ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }] as const) {
      const e = refusal(() => checkIpv6Modes(v6({ cidr: '2001:db8:1::/80', gatewayIp: '2001:db8:1::1', ...m })));
      expect(e.message).toMatch(/needs a \/64 prefix .* 2001:db8:1::\/80 is \/80/);
    }
    expect(() => checkIpv6Modes(v6({ cidr: '2001:db8:1::/80', ipv6RaMode: 'dhcpv6-stateful', ipv6AddressMode: 'dhcpv6-stateful' }))).not.toThrow();
  });

  it('refuses modes without DHCP or without a gateway', () => {
    expect(refusal(() => checkIpv6Modes(v6({ enableDhcp: false, ipv6RaMode: 'slaac' }))).message).toMatch(/need DHCP enabled/);
    expect(refusal(() => checkIpv6Modes(v6({ gatewayIp: null, ipv6AddressMode: 'slaac' }))).message).toMatch(/need a gateway/);
  });

  it('accepts no modes at all on any subnet', () => {
    expect(() => checkIpv6Modes(v6({ cidr: '10.0.0.0/24', gatewayIp: null, enableDhcp: false }))).not.toThrow();
  });
});

describe('IPv6 modes: IPAM decisions', () => {
  const network = (w: World): string => w.run('network.create', { name: 'n' }, tenantA).resourceId;

  it('records the modes on the subnet (left out of the event when not set)', () => {
    const w = new World();
    const networkId = network(w);
    const d = w.run('subnet.create', { networkId, cidr: '2001:db8:1::/64', ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }, tenantA);
    expect(d.event.data).toMatchObject({ ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' });
    const plain = w.run('subnet.create', { networkId, cidr: '2001:db8:2::/64' }, tenantA);
    expect(plain.event.data).not.toHaveProperty('ipv6RaMode');
    expect(w.state.networks[networkId]!.subnets[plain.resourceId]).toMatchObject({ ipv6RaMode: null, ipv6AddressMode: null });
  });

  it('gives a port on a SLAAC or DHCPv6-stateless subnet the EUI-64 address of its MAC; stateful allocates from the pools', () => {
    const w = new World();
    const networkId = network(w);
    const slaac = w.run('subnet.create', { networkId, cidr: '2001:db8:1::/64', ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }, tenantA).resourceId;
    const stateless = w.run('subnet.create', { networkId, cidr: '2001:db8:2::/64', ipv6AddressMode: 'dhcpv6-stateless' }, tenantA).resourceId;
    const stateful = w.run('subnet.create', { networkId, cidr: '2001:db8:3::/64', ipv6RaMode: 'dhcpv6-stateful' }, tenantA).resourceId;
    const p = w.run('port.create', { networkId, mac: '52:54:00:12:34:56' }, tenantA);
    const fixedIps = (p.event.data as { fixedIps: unknown[] }).fixedIps;
    expect(fixedIps).toHaveLength(3);
    expect(fixedIps).toEqual(
      expect.arrayContaining([
        { subnetId: slaac, ip: '2001:db8:1:0:5054:ff:fe12:3456' },
        { subnetId: stateless, ip: '2001:db8:2:0:5054:ff:fe12:3456' },
        { subnetId: stateful, ip: '2001:db8:3::2' },
      ]),
    );
    expect(w.state.networks[networkId]!.subnets[slaac]!.allocated['2001:db8:1:0:5054:ff:fe12:3456']).toBe(p.resourceId);
  });

  it('refuses an explicit address on a SLAAC subnet, naming the field', () => {
    const w = new World();
    const networkId = network(w);
    const subnetId = w.run('subnet.create', { networkId, cidr: '2001:db8:1::/64', ipv6RaMode: 'slaac' }, tenantA).resourceId;
    try {
      w.decide('port.create', { networkId, fixedIps: [{ subnetId, ip: '2001:db8:1::10' }] }, tenantA);
      throw new Error('expected a refusal');
    } catch (e) {
      expect((e as StrataError).code).toBe(ErrorCode.InvalidArgument);
      expect((e as StrataError).message).toMatch(/address 2001:db8:1::10 cannot be assigned .* EUI-64 of the port's MAC \(slaac\)/);
      expect((e as StrataError).details).toMatchObject({ field: 'fixedIps.0.ip' });
    }
  });

  it('refuses modes through the command schema when the name is not a mode', () => {
    const w = new World();
    const networkId = network(w);
    expect(() => w.decide('subnet.create', { networkId, cidr: '2001:db8:1::/64', ipv6RaMode: 'eui64' as Ipv6Mode }, tenantA)).toThrow(/ipv6RaMode|Invalid option/);
  });
});
