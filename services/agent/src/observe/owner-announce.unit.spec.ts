import { describe, expect, it } from 'vitest';
import { emptySnapshot, type HostViewSnapshot } from '../core/snapshot.js';
import { announcements, garpFrame, remoteOwners } from './owner-announce.js';
import { isGratuitous, parseArp } from './garp.js';

function view(owner: { port: string; mac: string } | null): HostViewSnapshot {
  const v = emptySnapshot();
  v.networks['n'] = { id: 'n', tenant: 't', vni: 100, mtu: 1450, subnets: [], domainId: 'n', gatewayMac: '02:53:47:00:00:64', floodVteps: [] };
  for (const [id, mac] of [['pa', '02:00:00:00:00:0a'], ['pb', '02:00:00:00:00:0b']] as const) {
    v.endpoints[id] = {
      id,
      networkId: 'n',
      mac,
      ips: [],
      vtep: '198.18.0.1',
      ...(owner?.port === id ? { ownedAddresses: [{ ip: '10.0.0.100', mac: owner.mac }] } : {}),
    };
  }
  return v;
}

describe("re-announcing a remote pair address's owner to local VMs", () => {
  it('announces an owner when it appears or changes, once', () => {
    const none = remoteOwners(view(null));
    const a = remoteOwners(view({ port: 'pa', mac: '02:00:00:00:00:0a' }));
    const b = remoteOwners(view({ port: 'pb', mac: '02:00:00:00:00:0b' }));
    expect(announcements(none, a)).toEqual([{ bridge: 'sbr100', ip: '10.0.0.100', mac: '02:00:00:00:00:0a' }]);
    expect(announcements(a, a)).toEqual([]);
    expect(announcements(a, b)).toEqual([{ bridge: 'sbr100', ip: '10.0.0.100', mac: '02:00:00:00:00:0b' }]);
    expect(announcements(b, none)).toEqual([]);
  });

  it('the frame is a broadcast gratuitous ARP from the owner MAC (read back by the watcher parser)', () => {
    const f = garpFrame('02:00:00:00:00:0b', '10.0.0.100');
    expect(f.length).toBe(42);
    expect(Buffer.from(f.subarray(0, 14)).toString('hex')).toBe('ffffffffffff0200000000' + '0b0806');
    const arp = parseArp(f.subarray(14))!;
    expect(arp).toEqual({ op: 1, senderMac: '02:00:00:00:00:0b', senderIp: '10.0.0.100', targetIp: '10.0.0.100' });
    expect(isGratuitous(arp)).toBe(true);
  });
});
