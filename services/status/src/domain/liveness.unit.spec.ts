import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideLiveness, livenessEventId, type Decision, type Heard, type LivenessInput } from './liveness.js';
import { World } from './test/given.js';

const T = 15_000;
const input = (over: Partial<LivenessInput> = {}): LivenessInput => ({ hostId: 'hv1', heard: undefined, watchedSince: 0, now: 0, timeoutMs: T, ...over });
const heard = (at: number, bootId = 'boot-1'): Heard => ({ at, bootId, version: '0.1.0' });

function appended(d: Decision) {
  if (d.kind !== 'append') throw new Error('expected an event, got "already done"');
  return d;
}

describe('liveness: a registered host not heard for the timeout is down, heard again it is up', () => {
  it('is silent about a host heard within the timeout', () => {
    const w = new World();
    w.hypervisor('hv1');
    expect(decideLiveness(w.state, input({ heard: heard(1_000), now: 1_000 + T - 1 })).kind).toBe('done');
  });

  it('decides down once the timeout has passed since the last message, against the host aggregate\'s version', () => {
    const w = new World();
    w.hypervisor('hv1');
    const d = appended(decideLiveness(w.state, input({ heard: heard(1_000), now: 1_000 + T })));
    expect(d.aggregate).toEqual({ context: 'status', type: 'hypervisor', id: 'hv1' });
    expect(d.expectedVersion).toBe(0);
    expect(d.event).toEqual({ type: 'status.HypervisorAgentDown', data: { hostId: 'hv1', lastSeenAt: new Date(1_000).toISOString(), timeoutMs: T, bootId: 'boot-1' } });
  });

  it('gives a host never heard the timeout from when this instance started watching it (a restarted status marks no live host down at once)', () => {
    const w = new World();
    w.hypervisor('hv1');
    expect(decideLiveness(w.state, input({ watchedSince: 50_000, now: 50_000 + T - 1 })).kind).toBe('done');
    const d = appended(decideLiveness(w.state, input({ watchedSince: 50_000, now: 50_000 + T })));
    expect(d.event).toMatchObject({ type: 'status.HypervisorAgentDown', data: { lastSeenAt: '', bootId: '' } });
  });

  it('is idempotent: a host already down stays down without another event', () => {
    const w = new World();
    w.hypervisor('hv1');
    w.apply(appended(decideLiveness(w.state, input({ heard: heard(0), now: T }))));
    expect(w.state.liveness['hv1']).toMatchObject({ alive: false, bootId: 'boot-1' });
    expect(decideLiveness(w.state, input({ heard: heard(0), now: 10 * T })).kind).toBe('done');
  });

  it('decides up when heard again, saying whether the agent restarted (another boot id), against the down event\'s version', () => {
    for (const [bootId, restarted] of [
      ['boot-1', false],
      ['boot-2', true],
    ] as const) {
      const w = new World();
      w.hypervisor('hv1');
      w.apply(appended(decideLiveness(w.state, input({ heard: heard(0), now: T }))));
      const version = w.state.liveness['hv1']!.version;
      const d = appended(decideLiveness(w.state, input({ heard: heard(2 * T, bootId), now: 2 * T + 1 })));
      expect(d.expectedVersion).toBe(version);
      expect(d.event).toEqual({ type: 'status.HypervisorAgentUp', data: { hostId: 'hv1', bootId, version: '0.1.0', restarted } });
      w.apply(d);
      expect(w.state.liveness['hv1']).toMatchObject({ alive: true, bootId });
      expect(decideLiveness(w.state, input({ heard: heard(2 * T, bootId), now: 2 * T + 2 })).kind).toBe('done');
    }
  });

  it('does not call an agent never heard before it went down "restarted"', () => {
    const w = new World();
    w.hypervisor('hv1');
    w.apply(appended(decideLiveness(w.state, input({ now: T }))));
    expect(appended(decideLiveness(w.state, input({ heard: heard(T + 5), now: T + 6 }))).event).toMatchObject({ data: { restarted: false } });
  });

  it('decides nothing about a host that is not registered (never registered, or deregistered)', () => {
    const w = new World();
    expect(decideLiveness(w.state, input({ now: 10 * T })).kind).toBe('done');
    w.hypervisor('hv1');
    w.deregister('hv1');
    expect(decideLiveness(w.state, input({ heard: heard(0), now: 10 * T })).kind).toBe('done');
  });

  it('names the event after the decision and the version it was decided against (two instances deciding alike write it once)', () => {
    const w = new World();
    w.hypervisor('hv1');
    const a = appended(decideLiveness(w.state, input({ heard: heard(0), now: T })));
    const b = appended(decideLiveness(w.state, input({ heard: heard(0), now: T + 700 })));
    expect(livenessEventId(a)).toBe(livenessEventId(b));
  });

  it('property: over any schedule of messages and clock ticks, events alternate, each is true when written, and the state ends as the clock says', () => {
    // Steps: a message after `gap` ms, or a tick after `gap` ms; boot ids from a small set so restarts happen.
    const step = fc.record({ message: fc.boolean(), gap: fc.integer({ min: 0, max: 2 * T }), boot: fc.constantFrom('b1', 'b2') });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const w = new World();
        w.hypervisor('hv1');
        let now = 0;
        let last: Heard | undefined;
        const types: string[] = [];
        for (const s of steps) {
          now += s.gap;
          if (s.message) last = heard(now, s.boot);
          const d = decideLiveness(w.state, input({ heard: last, now }));
          if (d.kind !== 'append') continue;
          const silent = now - (last?.at ?? 0) >= T;
          // Down only when silent for the timeout; up only when just heard.
          expect(d.event.type === 'status.HypervisorAgentDown').toBe(silent);
          types.push(d.event.type);
          w.apply(d);
          // Idempotent: deciding again at the same instant writes nothing.
          expect(decideLiveness(w.state, input({ heard: last, now })).kind).toBe('done');
        }
        for (let i = 1; i < types.length; i++) expect(types[i]).not.toBe(types[i - 1]);
        if (types.length > 0) expect(types[0]).toBe('status.HypervisorAgentDown');
        const silent = now - (last?.at ?? 0) >= T;
        expect(w.state.liveness['hv1']?.alive ?? true).toBe(!silent);
      }),
    );
  });
});
