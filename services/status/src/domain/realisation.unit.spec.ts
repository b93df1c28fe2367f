import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { barrier, behindReason, realisation } from './realisation.js';
import { agent, agents } from './test/given.js';

describe('realisation: "applied on n of m" and who is behind, why', () => {
  it('counts a host applied when its live agent has applied at least the position of the latest change there', () => {
    const v = realisation('security-group', 'g', [{ hostId: 'hv1', position: 100 }, { hostId: 'hv2', position: 90 }], agents(agent('hv1', { appliedPosition: 100 }), agent('hv2', { appliedPosition: 95 })), 120);
    expect(v).toEqual({ kind: 'security-group', id: 'g', hosts: 2, applied: 2, behind: [], realised: true, seq: 120 });
  });

  it('lists every host behind with its position, its agent\'s and why (sorted by host)', () => {
    const v = realisation(
      'router',
      'r',
      [
        { hostId: 'hv4', position: 50 },
        { hostId: 'hv1', position: 100 },
        { hostId: 'hv2', position: 100 },
        { hostId: 'hv3', position: 100 },
        { hostId: 'hv5', position: 100 },
      ],
      agents(
        agent('hv1', { appliedPosition: 99 }),
        agent('hv2', { appliedPosition: 80, error: 'nft: No such file or directory' }),
        agent('hv3', { alive: false, since: '2026-01-01T00:00:00.000Z', appliedPosition: 100 }),
        agent('hv4', { appliedPosition: 60 }),
        agent('hv5', { appliedPosition: null }),
      ),
      120,
    );
    expect(v.hosts).toBe(5);
    expect(v.applied).toBe(1);
    expect(v.realised).toBe(false);
    expect(v.behind).toEqual([
      { hostId: 'hv1', position: 100, appliedPosition: 99, reason: 'agent on hv1 applied 99 of 100' },
      { hostId: 'hv2', position: 100, appliedPosition: 80, reason: 'agent on hv2 applied 80 of 100; last apply failed: nft: No such file or directory' },
      // A dead agent is never "applied": nobody can say its kernel still holds the state.
      { hostId: 'hv3', position: 100, appliedPosition: 100, reason: 'agent on hv3 down since 2026-01-01T00:00:00.000Z' },
      { hostId: 'hv5', position: 100, appliedPosition: null, reason: 'agent on hv5 has applied no view yet' },
    ]);
  });

  it('says why a host has no applied view: never heard, or its first pass failed; and a host that is not registered', () => {
    expect(behindReason(agent('hv1', { heard: false, appliedPosition: null }), 1)).toBe('agent on hv1 not heard yet');
    expect(behindReason(agent('hv1', { appliedPosition: null, error: 'boom' }), 1)).toBe('agent on hv1 has applied no view: boom');
    expect(behindReason(agent('hv1', { registered: false }), 1)).toBe('hv1 is not a registered hypervisor');
  });

  it('is vacuously realised when no host holds the resource', () => {
    expect(realisation('chain', 'c', [], agents(), 7)).toMatchObject({ hosts: 0, applied: 0, behind: [], realised: true });
  });
});

describe('the write barrier: every host with a view has applied min(N, S_h)', () => {
  it('needs only S_h of a host whose view did not change after it, and N of one whose view changed after N', () => {
    const hosts = [
      { hostId: 'hv1', position: 40 },
      { hostId: 'hv2', position: 200 },
    ];
    // hv1's view last changed at 40 (< N): its view at 40 is its view at 100. hv2 changed after N: 100 is enough.
    expect(barrier(100, hosts, agents(agent('hv1', { appliedPosition: 40 }), agent('hv2', { appliedPosition: 100 })))).toEqual({ position: 100, realised: true, behind: [], hosts: 2 });
    expect(barrier(100, hosts, agents(agent('hv1', { appliedPosition: 39 }), agent('hv2', { appliedPosition: 99 })))).toEqual({
      position: 100,
      realised: false,
      hosts: 2,
      behind: [
        { hostId: 'hv1', position: 40, appliedPosition: 39, reason: 'agent on hv1 applied 39 of 40' },
        { hostId: 'hv2', position: 100, appliedPosition: 99, reason: 'agent on hv2 applied 99 of 100' },
      ],
    });
  });

  it('is held by a dead host (listed with why) and by one that has applied nothing', () => {
    const v = barrier(10, [{ hostId: 'hv1', position: 5 }, { hostId: 'hv2', position: 5 }], agents(agent('hv1', { alive: false, since: 'then' }), agent('hv2', { appliedPosition: null })));
    expect(v.realised).toBe(false);
    expect(v.behind.map((b) => b.reason)).toEqual(['agent on hv1 down since then', 'agent on hv2 has applied no view yet']);
  });

  it('property: realised exactly when every host is alive with applied >= min(N, S_h); and realised at N means realised at every N\' <= N', () => {
    const host = fc.record({ s: fc.integer({ min: 1, max: 500 }), applied: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }), alive: fc.boolean() });
    fc.assert(
      fc.property(fc.array(host, { maxLength: 8 }), fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 600 }), (hs, n, m) => {
        const hosts = hs.map((h, i) => ({ hostId: `hv${i}`, position: h.s }));
        const agentOf = agents(...hs.map((h, i) => agent(`hv${i}`, { appliedPosition: h.applied, alive: h.alive })));
        const v = barrier(n, hosts, agentOf);
        expect(v.realised).toBe(hs.every((h) => h.alive && h.applied !== null && h.applied >= Math.min(n, h.s)));
        expect(v.hosts).toBe(hs.length);
        if (v.realised) expect(barrier(Math.min(n, m), hosts, agentOf).realised).toBe(true);
      }),
    );
  });
});
