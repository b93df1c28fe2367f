import { describe, expect, it } from 'vitest';
import type { RejectedRoute } from '../domain/decide/index.js';
import { REJECTION_WARNING, Rejections } from './rejections.js';

const PEER = '198.19.1.10';
const r = (prefix: string, reason: RejectedRoute['reason'] = 'outside-assigned-range'): RejectedRoute => ({ peer: PEER, prefix, reason, deviceId: 'fw-1' });

describe('rejection bookkeeping', () => {
  it('holds only what is rejected now, warns per new rejection at most `burst` times per window, then says how many it did not log', () => {
    let now = 0;
    const lines: [Record<string, unknown>, string][] = [];
    const rej = new Rejections({ burst: 2, windowMs: 60_000, now: () => now, warn: (f, m) => lines.push([f, m]) });
    const peers = new Set([PEER]);
    // 1,000 distinct /32s, each announced and withdrawn.
    for (let i = 0; i < 1000; i++) {
      now += 10;
      expect(rej.update(new Map([[PEER, [r(`203.0.113.${i % 250}/32`)]]]), peers)).toHaveLength(1);
      rej.update(new Map([[PEER, []]]), peers);
    }
    expect(rej.size).toBe(0);
    expect(lines.filter(([, m]) => m === REJECTION_WARNING)).toHaveLength(2);
    now += 60_000;
    rej.update(new Map(), peers);
    expect(lines.at(-1)).toEqual([{ peer: PEER, notLogged: 998 }, 'more appliance routes rejected by the import policy (warnings rate-limited)']);
  });

  it('counts current rejections per reason and forgets a peer that is no longer a neighbour', () => {
    const rej = new Rejections({ burst: 5, windowMs: 60_000, now: () => 0, warn: () => undefined });
    rej.update(new Map([[PEER, [r('198.51.100.0/24', 'prefix-length'), r('203.0.113.1/32'), r('203.0.113.2/32')]]]), new Set([PEER]));
    expect(Object.fromEntries(rej.byReason())).toEqual({ 'prefix-length': 1, 'outside-assigned-range': 2 });
    rej.update(new Map(), new Set());
    expect(rej.size).toBe(0);
  });
});
