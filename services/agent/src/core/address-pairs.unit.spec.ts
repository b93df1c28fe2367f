import { describe, expect, it } from 'vitest';
import type { LocalPort } from '@strata/contracts';
import { GARP_LOG_GROUP } from './address-pairs.js';
import { spoofChainName } from './names.js';
import { desiredSecurityGroups, spoofRules } from './secgroups.js';
import { emptySnapshot } from './snapshot.js';

const base: LocalPort = {
  id: '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b',
  tenant: 't',
  networkId: 'n',
  mac: '02:00:00:00:00:0a',
  fixedIps: [{ subnetId: 's', ip: '10.0.0.10' }],
  device: 'tap3f2a9c1e5b7',
  groupIds: [],
  portSecurity: true,
};
const texts = (p: LocalPort) => spoofRules(p).map((r) => r.text);

describe('anti-spoofing with allowed address pairs', () => {
  it('a port without pairs: its MAC, no VLAN tags, nothing only a router sends, then its addresses, each list without a set', () => {
    expect(texts(base)).toEqual([
      'ether saddr != 02:00:00:00:00:0a drop',
      'ether type 8021q drop',
      'ether type 8021ad drop',
      'icmpv6 type nd-router-advert drop',
      'ether type ip6 udp sport 547 drop',
      'arp saddr ether != 02:00:00:00:00:0a drop',
      'arp saddr ip != 0.0.0.0 arp saddr ip != 10.0.0.10 drop',
      'ip saddr 0.0.0.0 udp sport 68 udp dport 67 return',
      'ip daddr 255.255.255.255 udp sport 68 udp dport 67 return',
      'ip saddr != 10.0.0.10 drop',
      'ip6 saddr != :: ip6 saddr != fe80::ff:fe00:a drop',
    ]);
  });

  it('binds each pair address to its MAC (ARP, IPv4, IPv6) and logs the port GARPs for its IPv4 pairs', () => {
    const p = {
      ...base,
      allowedAddressPairs: [
        { ipAddress: '10.0.0.100', macAddress: '02:00:00:00:00:0a' },
        { ipAddress: '10.0.0.128/25', macAddress: '00:00:5e:00:01:07' },
        { ipAddress: 'fd00::/64', macAddress: '02:00:00:00:00:0a' },
      ],
    };
    expect(texts(p)).toEqual([
      'ether saddr != 00:00:5e:00:01:07 ether saddr != 02:00:00:00:00:0a drop',
      'ether type 8021q drop',
      'ether type 8021ad drop',
      'icmpv6 type nd-router-advert drop',
      'ether type ip6 udp sport 547 drop',
      'arp saddr ether != 00:00:5e:00:01:07 arp saddr ether != 02:00:00:00:00:0a drop',
      'arp saddr ether . arp saddr ip != { 00:00:5e:00:01:07 . 10.0.0.128/25, 02:00:00:00:00:0a . 0.0.0.0, 02:00:00:00:00:0a . 10.0.0.10, 02:00:00:00:00:0a . 10.0.0.100 } drop',
      'ip saddr 0.0.0.0 udp sport 68 udp dport 67 return',
      'ip daddr 255.255.255.255 udp sport 68 udp dport 67 return',
      'ether saddr . ip saddr != { 00:00:5e:00:01:07 . 10.0.0.128/25, 02:00:00:00:00:0a . 10.0.0.10, 02:00:00:00:00:0a . 10.0.0.100 } drop',
      'ether saddr . ip6 saddr != { 02:00:00:00:00:0a . ::, 02:00:00:00:00:0a . fd00::/64, 02:00:00:00:00:0a . fe80::ff:fe00:a } drop',
      `arp saddr ip . arp daddr ip { 10.0.0.100 . 10.0.0.100, 10.0.0.128/25 . 10.0.0.128/25 } log prefix "${base.id}" group ${GARP_LOG_GROUP} queue-threshold 1`,
    ]);
  });

  it('a port without port security but with pairs gets a chain with only the GARP log rule (the watcher still hears it)', () => {
    const view = emptySnapshot();
    view.networks['n'] = { id: 'n', tenant: 't', vni: 100, mtu: 1450, subnets: [], domainId: 'n', gatewayMac: '02:53:47:00:00:64', floodVteps: [] };
    view.ports[base.id] = { ...base, portSecurity: false, allowedAddressPairs: [{ ipAddress: '10.0.0.100', macAddress: base.mac }] };
    const bridge = desiredSecurityGroups(view).nft.tables.bridge!;
    expect(bridge.chains[spoofChainName(base.id)]!.rules.map((r) => r.text)).toEqual([
      `arp saddr ip . arp daddr ip { 10.0.0.100 . 10.0.0.100 } log prefix "${base.id}" group ${GARP_LOG_GROUP} queue-threshold 1`,
    ]);
    view.ports[base.id] = { ...base, portSecurity: false };
    expect(desiredSecurityGroups(view).nft.tables.bridge).toBeUndefined();
  });
});
