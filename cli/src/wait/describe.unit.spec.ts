import { describe, expect, it } from 'vitest';
import type { BarrierResponse__Output, Realisation__Output } from '@strata/proto';
import type { Io } from '../output.js';
import { describeBarrier, describeRealisation, isRealised } from './describe.js';
import { progressOn } from './progress.js';

const h3 = { hostId: 'h3', position: '131', appliedPosition: '120', reason: 'agent applied 120 of 131' };
const realisation = (over: Partial<Realisation__Output>): Realisation__Output => ({
  kind: 'network',
  id: 'n1',
  hosts: 3,
  applied: 2,
  behind: [h3],
  realised: false,
  position: '131',
  portStatus: '',
  portStatusReason: '',
  ...over,
});

describe('the lines a wait shows', () => {
  it('says how many hosts applied it and who is behind and why', () => {
    expect(describeRealisation(realisation({}))).toBe('network n1: applied on 2 of 3 hosts; behind: h3 (agent applied 120 of 131)');
    expect(describeRealisation(realisation({ hosts: 1, applied: 1, behind: [], realised: true }))).toBe('network n1: applied on 1 of 1 host');
    expect(describeRealisation(realisation({ hosts: 0, applied: 0, behind: [], realised: true }))).toBe('network n1: no host holds it');
  });

  it("gives a port's status and reason first; a port is done only when ACTIVE", () => {
    const down = realisation({ kind: 'port', id: 'p1', hosts: 0, applied: 0, behind: [], realised: true, portStatus: 'DOWN', portStatusReason: 'not bound to a hypervisor' });
    expect(describeRealisation(down)).toBe('port p1: DOWN (not bound to a hypervisor); no host holds it');
    expect(isRealised(down)).toBe(false);
    const active = realisation({ kind: 'port', id: 'p1', hosts: 2, applied: 2, behind: [], realised: true, portStatus: 'ACTIVE' });
    expect(describeRealisation(active)).toBe('port p1: ACTIVE; applied on 2 of 2 hosts');
    expect(isRealised(active)).toBe(true);
    expect(isRealised(realisation({ realised: true, behind: [] }))).toBe(true);
  });

  it('describes the barrier the same way', () => {
    const b: BarrierResponse__Output = { position: '131', realised: false, behind: [h3], hosts: 3 };
    expect(describeBarrier(b)).toBe('position 131: applied on 2 of 3 hosts; behind: h3 (agent applied 120 of 131)');
  });
});

describe('progress', () => {
  function capture(tty: boolean) {
    const err: string[] = [];
    const drawn: string[] = [];
    const io: Io = { out: () => undefined, err: (s) => err.push(s), ...(tty ? { redraw: (s: string) => drawn.push(s) } : {}) };
    return { io, err, drawn };
  }

  it('updates one line on a terminal, and erases it at the end', () => {
    const c = capture(true);
    const p = progressOn(c.io);
    p.update('applied on 1 of 3 hosts');
    p.update('applied on 2 of 3 hosts');
    p.done();
    expect(c.drawn).toEqual(['applied on 1 of 3 hosts', 'applied on 2 of 3 hosts', '']);
    expect(c.err).toEqual([]);
  });

  it('writes a plain line per change elsewhere, never the same line twice', () => {
    const c = capture(false);
    const p = progressOn(c.io);
    p.update('applied on 1 of 3 hosts');
    p.update('applied on 1 of 3 hosts');
    p.update('applied on 3 of 3 hosts');
    p.done();
    expect(c.err).toEqual(['applied on 1 of 3 hosts', 'applied on 3 of 3 hosts']);
  });
});
