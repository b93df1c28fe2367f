import { describe, expect, it } from 'vitest';
import type { LocalPort } from '@strata/contracts';
import { GarpDecider, isGratuitous, parseArp, TcpdumpHexReader, type NflogRecord } from './garp.js';
import { CAPTURE } from './garp.fixture.js';


const port = (pairs: LocalPort['allowedAddressPairs']): LocalPort => ({
  id: 'port-abc',
  tenant: 't',
  networkId: 'n',
  mac: '02:00:00:00:00:0a',
  fixedIps: [{ subnetId: 's', ip: '10.0.0.10' }],
  device: 'tapx',
  groupIds: [],
  portSecurity: true,
  ...(pairs ? { allowedAddressPairs: pairs } : {}),
});

function records(lines: string[]): NflogRecord[] {
  const r = new TcpdumpHexReader();
  return lines.map((l) => r.push(l)).filter((x): x is NflogRecord => x !== null);
}

describe('GARP watcher: parsing tcpdump -xx of NFLOG records', () => {
  it('reads the prefix and the ARP payload as soon as the payload is complete, without waiting for the next packet', () => {
    const reader = new TcpdumpHexReader();
    const out = CAPTURE.map((l) => reader.push(l));
    expect(out.slice(0, -1).every((x) => x === null)).toBe(true);
    const rec = out.at(-1)!;
    expect(rec.prefix).toBe('port-abc');
    const arp = parseArp(rec.payload)!;
    expect(arp).toEqual({ op: 1, senderMac: '02:00:00:00:00:0a', senderIp: '10.0.0.100', targetIp: '10.0.0.100' });
    expect(isGratuitous(arp)).toBe(true);
  });

  it('a truncated record yields nothing; the next header starts afresh', () => {
    expect(records(CAPTURE.slice(0, 8))).toEqual([]);
    expect(records([...CAPTURE.slice(0, 8), ...CAPTURE])).toHaveLength(1);
  });

  it('an ordinary ARP request (target other than sender) is not gratuitous', () => {
    const arp = parseArp(records(CAPTURE)[0]!.payload)!;
    expect(isGratuitous({ ...arp, targetIp: '10.0.0.1' })).toBe(false);
    expect(isGratuitous({ ...arp, op: 3 })).toBe(false);
  });
});

describe('GARP watcher: what is reported', () => {
  const rec = () => records(CAPTURE)[0]!;

  it('a GARP of a local port for a pair address with the pair MAC, once per window', () => {
    const d = new GarpDecider('hv1');
    d.setPorts([port([{ ipAddress: '10.0.0.100', macAddress: '02:00:00:00:00:0a' }])]);
    expect(d.decide(rec(), 10_000)).toEqual({ hostId: 'hv1', portId: 'port-abc', ip: '10.0.0.100', mac: '02:00:00:00:00:0a' });
    expect(d.decide(rec(), 10_500)).toBeNull();
    expect(d.decide(rec(), 11_001)).not.toBeNull();
  });

  it('nothing for a port without that pair, with another MAC, or not local', () => {
    const d = new GarpDecider('hv1');
    d.setPorts([port([{ ipAddress: '10.0.0.101', macAddress: '02:00:00:00:00:0a' }])]);
    expect(d.decide(rec(), 0)).toBeNull();
    d.setPorts([port([{ ipAddress: '10.0.0.0/24', macAddress: '00:00:5e:00:01:01' }])]);
    expect(d.decide(rec(), 0)).toBeNull();
    d.setPorts([port([{ ipAddress: '10.0.0.96/28', macAddress: '02:00:00:00:00:0a' }])]);
    expect(d.decide(rec(), 0)).not.toBeNull();
    d.setPorts([]);
    expect(d.decide(rec(), 5000)).toBeNull();
    expect(d.watching).toBe(0);
  });

  it('a port that lost the address to another owner is heard again within the window (VRRP flapping back)', () => {
    const d = new GarpDecider('hv1');
    const pairs = [{ ipAddress: '10.0.0.100', macAddress: '02:00:00:00:00:0a' }];
    d.setPorts([port(pairs)]);
    expect(d.decide(rec(), 0)).not.toBeNull();
    // The view: it owns the address, then another port took it.
    d.setPorts([{ ...port(pairs), ownedAddresses: [{ ip: '10.0.0.100', mac: '02:00:00:00:00:0a' }] }]);
    expect(d.decide(rec(), 200)).toBeNull();
    d.setPorts([port(pairs)]);
    expect(d.decide(rec(), 400)).not.toBeNull();
  });
});
