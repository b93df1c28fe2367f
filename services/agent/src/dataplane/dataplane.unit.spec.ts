import { describe, expect, it } from 'vitest';
import { emptySnapshot, type HostViewSnapshot } from '../core/snapshot.js';
import type { DesiredState } from '../core/desired.js';
import { emptyKernelState } from '../core/types.js';
import type { Exec } from '../kernel/exec.js';
import type { CurrentView } from '../view/current.js';
import type { ViewChange } from '../view/store.js';
import { ApplyError } from '../kernel/apply.js';
import { Dataplane, portStates, type KernelPort, type PassResult } from './dataplane.js';
import type { Manager } from './manager.js';

const noKernel = (): never => {
  throw new Error('no kernel in unit tests');
};
const io = { exec: { run: noKernel, spawnDetached: noKernel, watch: noKernel } satisfies Exec, nsPrefix: 'p-', stateDir: '/nonexistent' };

/** A kernel that has nothing and accepts every plan; counts the full passes (reads). */
function fakeKernel(): KernelPort & { reads: number } {
  const k = {
    reads: 0,
    read: async () => {
      k.reads++;
      return { ...emptyKernelState(), devices: [] };
    },
    apply: async () => undefined,
  };
  return k;
}

/** A manager owning one kind of view object: a namespace per object (a kernel object the plan can add alone), and a fast path for changes of that field that records what it got. */
function manager(name: string, field: 'endpoints' | 'members', log: string[], answer: () => 'ok' | 'decline' | 'fail' = () => 'ok'): Manager {
  return {
    name,
    desired: (view, ctx) => ({
      kernel: {
        namespaces: {
          ...Object.fromEntries(Object.keys(view[field]).map((id) => [`${name}|${id}`, { name: `${name}|${id}`, sysctls: {} }])),
          // What the managers before this one have: the order of registration is the order of composition.
          [`${name}|seen`]: { name: `${name}|seen`, sysctls: { before: String(Object.keys(ctx.kernel.namespaces).length) } },
        },
      },
    }),
    attach: () => ({
      fastPath: {
        handles: (c) => c.field === field,
        from: () => ({
          apply: async (changes) => {
            const a = answer();
            log.push(`${name}:${a}:${changes.map((c) => c.id).join(',')}`);
            if (a === 'fail') throw new Error('refused');
            return a === 'ok' ? { added: changes.length, deleted: 0 } : null;
          },
        }),
      },
    }),
  };
}

/** A view source with a journal, as the host-view watcher gives it. */
function source() {
  const journal: ViewChange[] = [];
  let view: HostViewSnapshot = emptySnapshot();
  let revision = 0;
  return {
    change(next: HostViewSnapshot, ...changes: ViewChange[]): void {
      view = next;
      revision++;
      journal.push(...changes);
    },
    current(): CurrentView {
      return { view, revision, viewPosition: revision, journal: { epoch: 1, position: journal.length, changesSince: (from) => journal.slice(from), trim: () => undefined } };
    },
  };
}

const ep = (id: string): ViewChange => ({ field: 'endpoints', id, before: undefined, after: { id, networkId: 'n', mac: '02:00:00:00:00:01', ips: [], vtep: '198.18.0.12' } });
const member = (id: string): ViewChange => ({ field: 'members', id, before: undefined, after: { groupId: 'g', portId: id, ips: [] } });
const withEndpoints = (...ids: string[]): HostViewSnapshot => ({
  ...emptySnapshot(),
  endpoints: Object.fromEntries(ids.map((id) => [id, ep(id).after as HostViewSnapshot['endpoints'][string]])),
});

describe('Dataplane', () => {
  it('composes the managers in registration order: each sees the objects of those before it', () => {
    const dp = new Dataplane({ managers: [manager('a', 'endpoints', []), manager('b', 'endpoints', [])], io, kernel: fakeKernel() });
    const desired = dp.desired(withEndpoints('e1', 'e2'));
    expect(Object.keys(desired.kernel.namespaces).sort()).toEqual(['a|e1', 'a|e2', 'a|seen', 'b|e1', 'b|e2', 'b|seen']);
    expect(desired.kernel.namespaces['a|seen']!.sysctls).toEqual({ before: '0' });
    expect(desired.kernel.namespaces['b|seen']!.sysctls).toEqual({ before: '3' });
  });

  it('routes each change to the fast path that handles it; one change without a fast path makes the pass full', async () => {
    const log: string[] = [];
    const kernel = fakeKernel();
    const dp = new Dataplane({ managers: [manager('a', 'endpoints', log), manager('b', 'members', log)], io, kernel });
    const s = source();
    expect((await dp.sync(s.current())).kind).toBe('full');
    s.change(withEndpoints('e1'), ep('e1'), member('m1'), member('m2'));
    const fast = await dp.sync(s.current());
    expect(fast).toMatchObject({ kind: 'fast', fast: { added: 3, deleted: 0 }, changed: true });
    expect(log).toEqual(['a:ok:e1', 'b:ok:m1,m2']);
    s.change(withEndpoints('e1'), { field: 'ports', id: 'p1', before: undefined, after: undefined });
    expect((await dp.sync(s.current())).kind).toBe('full');
    expect(kernel.reads).toBe(2);
    // Asked for a full pass (a resync): full, whatever changed.
    s.change(withEndpoints('e1'), member('m3'));
    expect((await dp.sync(s.current(), { full: true })).kind).toBe('full');
  });

  it('changes with a fast path go first when others make the pass full (a failover does not wait behind the full pass); the full pass still does them all', async () => {
    const log: string[] = [];
    const kernel = fakeKernel();
    const applied: string[] = [];
    kernel.apply = async () => {
      applied.push(`full after ${log.length} fast`);
    };
    const dp = new Dataplane({ managers: [manager('a', 'endpoints', log), manager('b', 'members', log)], io, kernel });
    const s = source();
    await dp.sync(s.current());
    const g = dp.generation;
    s.change(withEndpoints('e1'), ep('e1'), { field: 'ports', id: 'p1', before: undefined, after: undefined }, member('m1'));
    const r = await dp.sync(s.current());
    expect(r).toMatchObject({ kind: 'full', changed: true });
    expect(log).toEqual(['a:ok:e1', 'b:ok:m1']);
    expect(applied.at(-1)).toBe('full after 2 fast');
    expect(dp.generation).toBeGreaterThan(g);
    // The full pass took the journal: the next change alone is fast again, from the new position.
    s.change(withEndpoints('e1'), member('m2'));
    expect(await dp.sync(s.current())).toMatchObject({ kind: 'fast' });
    expect(log.at(-1)).toBe('b:ok:m2');
    // Asked for a full pass (a resync): no fast path first.
    s.change(withEndpoints('e1'), member('m3'), { field: 'ports', id: 'p2', before: undefined, after: undefined });
    expect((await dp.sync(s.current(), { full: true })).kind).toBe('full');
    expect(log.at(-1)).toBe('b:ok:m2');
  });

  it('a fast path that declines or fails is followed by a full pass in the same call, and nothing is fast until a full pass succeeded', async () => {
    const log: string[] = [];
    let answer: 'ok' | 'decline' | 'fail' = 'decline';
    const dp = new Dataplane({ managers: [manager('b', 'members', log, () => answer)], io, kernel: fakeKernel() });
    const s = source();
    s.change(emptySnapshot(), member('m0'));
    expect((await dp.sync(s.current())).kind).toBe('full');
    expect(log).toEqual([]);
    s.change(emptySnapshot(), member('m1'));
    expect((await dp.sync(s.current())).kind).toBe('full');
    answer = 'fail';
    s.change(emptySnapshot(), member('m2'));
    expect((await dp.sync(s.current())).kind).toBe('full');
    answer = 'ok';
    s.change(emptySnapshot(), member('m3'));
    expect((await dp.sync(s.current())).kind).toBe('fast');
    expect(log).toEqual(['b:decline:m1', 'b:fail:m2', 'b:ok:m3']);
  });

  it('counts a generation when a part changes, not when the same state is applied again (compared structurally, not by key order)', async () => {
    let order: string[] = ['e1', 'e2'];
    const m: Manager = {
      name: 'ordered',
      desired: () => ({ kernel: { namespaces: Object.fromEntries(order.map((id) => [id, { name: id, sysctls: {} }])) } }),
    };
    const kernel = fakeKernel();
    const dp = new Dataplane({ managers: [m], io, kernel });
    let failing = false;
    const failingKernel: KernelPort = { read: () => (failing ? Promise.reject(new Error('RTNETLINK answers: Operation not permitted')) : kernel.read()), apply: kernel.apply };
    const dp2 = new Dataplane({ managers: [m], io, kernel: failingKernel });
    await dp.reconcile(emptySnapshot());
    expect(dp.generation).toBe(1);
    order = ['e2', 'e1'];
    await dp.reconcile(emptySnapshot());
    expect(dp.generation).toBe(1);
    order = ['e2'];
    await dp.reconcile(emptySnapshot());
    expect(dp.generation).toBe(2);
    // A failed pass keeps the last applied parts: the same state after it is no new generation.
    await dp2.reconcile(emptySnapshot());
    failing = true;
    await expect(dp2.reconcile(emptySnapshot())).rejects.toThrow(/RTNETLINK/);
    failing = false;
    await dp2.reconcile(emptySnapshot());
    expect(dp2.generation).toBe(1);
  });
});

describe('Dataplane, told of every link (kept passes)', () => {
  /** One port per endpoint of the view: its device plugged into bridge sbr1 (host namespace). */
  const plugs: Manager = {
    name: 'plugs',
    desired: (view) => ({
      kernel: {
        links: { sbr1: { ns: '', name: 'sbr1', kind: 'bridge', master: null, mtu: 1450, mac: null, alias: '', up: true, vxlan: null, peer: null, brport: null } },
        plugs: Object.fromEntries(Object.keys(view.endpoints).map((id) => [`tap${id}`, { device: `tap${id}`, master: 'sbr1', mtu: 1450, up: true }])),
      },
    }),
  };
  const opsOf = (r: PassResult): string[] => (r.kind === 'full' ? r.result.plan.batches.flatMap((b) => b.ops.map((o) => (o.op === 'plug' ? `plug ${o.plug.device}` : o.op))) : []);
  const plugged = (r: PassResult): string[] => (r.kind === 'full' ? r.result.ports.filter((p) => p.state === 'up').map((p) => p.portId) : []);
  /** A kernel as the model says (no device at first); it refuses a plug of a device it does not have. */
  function modelKernel(devices: string[]) {
    const k = fakeKernel();
    const present = new Set(devices);
    k.read = async () => {
      k.reads++;
      return { ...emptyKernelState(), devices: [...present].sort() };
    };
    k.apply = async (plan) => {
      for (const op of plan.batches.flatMap((b) => b.ops)) if (op.op === 'plug' && !present.has(op.plug.device)) throw new ApplyError('plugs', new Error(`Cannot find device "${op.plug.device}"`));
    };
    return { k, present };
  }
  const withPorts = (view: HostViewSnapshot): HostViewSnapshot => ({ ...view, ports: Object.fromEntries(Object.keys(view.endpoints).map((id) => [id, { id, tenant: 't', networkId: 'n', mac: '02:00:00:00:00:01', device: `tap${id}`, fixedIps: [], groupIds: [], portSecurity: true }])) });

  it('a view change no fast path takes is planned against the kernel the last pass left: no read, only its own objects', async () => {
    const { k, present } = modelKernel([]);
    const dp = new Dataplane({ managers: [plugs], io, kernel: k, followsLinks: true });
    const s = source();
    expect(opsOf(await dp.sync(s.current()))).toEqual(['link-add']);
    expect(k.reads).toBe(1);
    // The port comes into the view before its NIC exists: nothing to plug yet, and no read.
    s.change(withPorts(withEndpoints('e1')), { field: 'ports', id: 'e1', before: undefined, after: undefined });
    const before = await dp.sync(s.current());
    expect(before).toMatchObject({ kind: 'full', result: { read: false } });
    expect(opsOf(before)).toEqual([]);
    // The NIC appears (the link monitor): the next pass plugs exactly it, still without a read.
    present.add('tape1');
    dp.linkChanged('tape1', false);
    dp.linkChanged('sbr1', false); // Strata's own link: not a device
    const after = await dp.sync(s.current(), { full: true });
    expect(after).toMatchObject({ kind: 'full', result: { read: false } });
    expect(opsOf(after)).toEqual(['plug tape1']);
    expect(plugged(after)).toEqual(['e1']);
    expect(k.reads).toBe(1);
    // Applied once: the model has it, so the next pass plans nothing.
    expect(opsOf(await dp.sync(s.current(), { full: true }))).toEqual([]);
    // The NIC goes and comes back (a VM rebooted): the kernel took the plug with it, so the model plugs it again.
    dp.linkChanged('tape1', true);
    dp.linkChanged('tape1', false);
    expect(opsOf(await dp.sync(s.current(), { full: true }))).toEqual(['plug tape1']);
    // A full pass without a journal change (a NIC came): kept, not fast.
    expect(await dp.sync(s.current(), { full: true })).toMatchObject({ kind: 'full', result: { read: false } });
    // Asked to read (the periodic resync): it reads.
    expect(await dp.sync(s.current(), { read: true })).toMatchObject({ kind: 'full', result: { read: true } });
    expect(k.reads).toBe(2);
  });

  it('a kernel that is not what the model says refuses the plan: the same call reads it and runs a full pass', async () => {
    const { k, present } = modelKernel(['tape1']);
    const dp = new Dataplane({ managers: [plugs], io, kernel: k, followsLinks: true });
    const s = source();
    s.change(withPorts(withEndpoints('e1')), { field: 'ports', id: 'e1', before: undefined, after: undefined });
    expect(plugged(await dp.sync(s.current()))).toEqual(['e1']);
    // tape1 goes without the monitor telling (it was restarting), and the monitor says it came back: it has not.
    present.delete('tape1');
    dp.linkChanged('tape1', true);
    dp.linkChanged('tape1', false);
    present.add('tape2');
    dp.linkChanged('tape2', false);
    s.change(withPorts(withEndpoints('e1', 'e2')), { field: 'ports', id: 'e2', before: undefined, after: undefined });
    // The kept plan plugs tape1 and tape2; the kernel refuses tape1, and the same call reads it: e2 is plugged, e1 is not.
    const r = await dp.sync(s.current());
    expect(r).toMatchObject({ kind: 'full', result: { read: true } });
    expect(k.reads).toBe(2);
    expect(opsOf(r)).toEqual(['link-add', 'plug tape2']);
    expect(plugged(r)).toEqual(['e2']);
    // Links lost (the monitor restarted): the next pass reads, whatever the model says.
    present.add('tape1');
    dp.linksLost();
    const lost = await dp.sync(s.current(), { full: true });
    expect(lost).toMatchObject({ kind: 'full', result: { read: true } });
    expect(opsOf(lost)).toEqual(['link-add', 'plug tape1', 'plug tape2']);
  });

  it('a link event during a pass is kept for the model after it (the read may have missed it)', async () => {
    const { k, present } = modelKernel([]);
    const dp = new Dataplane({ managers: [plugs], io, kernel: k, followsLinks: true });
    const read = k.read;
    // The NIC appears after the read, before the pass ends.
    k.read = async () => {
      const state = await read();
      present.add('tape1');
      dp.linkChanged('tape1', false);
      return state;
    };
    const s = source();
    s.change(withPorts(withEndpoints('e1')), { field: 'ports', id: 'e1', before: undefined, after: undefined });
    expect(plugged(await dp.sync(s.current()))).toEqual([]);
    k.read = read;
    // The agent asks for a full pass when a NIC it was waiting for came during the pass (no journal entry says so).
    const next = await dp.sync(s.current(), { full: true });
    expect(next).toMatchObject({ kind: 'full', result: { read: false } });
    expect(opsOf(next)).toEqual(['plug tape1']);
  });

  it('without being told of links, every pass that is not fast reads the kernel', async () => {
    const { k } = modelKernel([]);
    const dp = new Dataplane({ managers: [plugs], io, kernel: k });
    const s = source();
    await dp.sync(s.current());
    s.change(withPorts(withEndpoints('e1')), { field: 'ports', id: 'e1', before: undefined, after: undefined });
    expect(await dp.sync(s.current())).toMatchObject({ kind: 'full', result: { read: true } });
    expect(k.reads).toBe(2);
  });
});

describe('portStates', () => {
  const port = (id: string, groupIds: string[] | null) => ({ id, tenant: 't', networkId: 'n1', mac: '02:00:00:00:00:01', device: `tap${id}`, fixedIps: [], groupIds, portSecurity: true });
  it('up: device present and plugged; down: device missing, administratively down, or present but not plugged (groups undecided, or its network not here)', () => {
    const view: HostViewSnapshot = { ...emptySnapshot(), ports: { a: port('a', []), b: port('b', []), c: port('c', null), d: port('d', []), e: port('e', []) } };
    const kernel = emptyKernelState();
    kernel.plugs = { tapa: { device: 'tapa', master: 'sbr1', mtu: 1450, up: true }, tapb: { device: 'tapb', master: 'sbr1', mtu: 1450, up: true } };
    const desired: DesiredState = { kernel, dhcp: {}, ruleCounters: {}, ports: ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, device: `tap${id}`, adminStateUp: id !== 'e' })) };
    kernel.plugs.tape = { device: 'tape', master: 'sbr1', mtu: 1450, up: false };
    expect(portStates(view, desired, { ...emptyKernelState(), devices: ['tapa', 'tapc', 'tapd', 'tape'] })).toEqual([
      { portId: 'a', state: 'up', reason: '' },
      { portId: 'b', state: 'down', reason: 'device tapb not present (not plugged)' },
      { portId: 'c', state: 'down', reason: 'device tapc not plugged: security groups not decided yet' },
      { portId: 'd', state: 'down', reason: 'device tapd not plugged: its network is not realised on this host' },
      { portId: 'e', state: 'down', reason: 'administratively down' },
    ]);
  });
});
