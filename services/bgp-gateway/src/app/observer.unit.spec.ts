import { describe, expect, it } from 'vitest';
import { originatedPath } from '../gobgp/paths.js';
import type { ApiPath, WatchEvent } from '../gobgp/proto.js';
import { Observer } from './observer.js';

const peer = (address: string, state: string, uptime = 0, admin = 'UP'): WatchEvent => ({
  event: 'peer',
  peer: {
    type: 'STATE',
    peer: { conf: { neighbor_address: address, peer_asn: 1 }, state: { session_state: state, neighbor_address: address, admin_state: admin }, timers: { state: { uptime: { seconds: uptime } } } },
  },
});
const from = (address: string, prefix: string, withdraw = false): WatchEvent => {
  const p: ApiPath = { ...originatedPath(prefix, address, withdraw), neighbor_ip: address };
  return { event: 'table', table: { paths: [p] } };
};

describe('Observer', () => {
  it('follows announcements and withdrawals per peer, and forgets a peer whose session drops (without withdrawing)', () => {
    const o = new Observer(() => 5_000_000);
    expect(o.handle(peer('198.18.0.1', 'ESTABLISHED', 4000))).toBe(true);
    expect(o.session('198.18.0.1')).toMatchObject({ established: true, limited: false, since: 4_000_000 });
    o.handle(from('198.18.0.1', '0.0.0.0/0'));
    o.handle(from('198.18.0.1', '203.0.113.0/24'));
    o.handle(from('198.18.0.1', '203.0.113.0/24', true));
    expect(o.announced('198.18.0.1').map((a) => a.prefix)).toEqual(['0.0.0.0/0']);
    expect(o.handle(peer('198.18.0.1', 'ESTABLISHED'))).toBe(false);
    o.handle(peer('198.18.0.1', 'ACTIVE'));
    expect(o.session('198.18.0.1')?.established).toBe(false);
    expect(o.announced('198.18.0.1')).toEqual([]);
  });

  it('keeps only the tables of peers it is told to (appliances): the ToR\'s routes and echoes are not held', () => {
    const o = new Observer(Date.now, (p) => p === '198.19.1.10');
    expect(o.handle(from('198.18.0.1', '203.0.113.10/32'))).toBe(false);
    expect(o.handle(from('198.19.1.10', '198.51.100.129/32'))).toBe(true);
    expect(o.size()).toBe(1);
    o.retain(new Set());
    expect(o.size()).toBe(0);
  });

  it('knows when every session has been reported (END_OF_INIT), and sees a session stopped at its prefix limit', () => {
    const o = new Observer();
    expect(o.complete).toBe(false);
    expect(o.handle({ event: 'peer', peer: { type: 'END_OF_INIT', peer: null } })).toBe(true);
    expect(o.complete).toBe(true);
    o.handle(peer('198.19.1.10', 'ESTABLISHED'));
    expect(o.handle(peer('198.19.1.10', 'IDLE', 0, 'PFX_CT'))).toBe(true);
    expect(o.session('198.19.1.10')).toMatchObject({ established: false, limited: true });
    expect(o.handle(peer('198.19.1.10', 'IDLE', 0, 'UP'))).toBe(true);
    expect(o.session('198.19.1.10')?.limited).toBe(false);
  });

  it('damps a session that keeps dropping: after the third drop it is not usable until its penalty decays', () => {
    let now = 1_000_000;
    const o = new Observer(() => now);
    for (let i = 0; i < 3; i++) {
      o.handle(peer('198.19.1.10', 'ESTABLISHED'));
      expect(o.usable('198.19.1.10')).toBe(true);
      o.handle(peer('198.19.1.10', 'ACTIVE'));
      now += 1000;
    }
    o.handle(peer('198.19.1.10', 'ESTABLISHED'));
    expect(o.usable('198.19.1.10')).toBe(false);
    now = o.nextReuse();
    expect(o.usable('198.19.1.10')).toBe(true);
  });

  it('ignores paths without a peer (the gateway\'s own)', () => {
    const o = new Observer();
    expect(o.handle({ event: 'table', table: { paths: [originatedPath('203.0.113.1/32', '198.18.0.11')] } })).toBe(false);
  });
});
