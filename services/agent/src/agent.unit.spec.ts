import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AgentReport } from '@strata/contracts';
import { Agent, restDelay, type AgentLogger } from './agent.js';
import { emptyKernelState, type LinkState } from './core/types.js';
import { emptySnapshot, type HostViewSnapshot } from './core/snapshot.js';
import { Dataplane, type KernelPort } from './dataplane/dataplane.js';
import type { Manager } from './dataplane/manager.js';
import type { Exec } from './kernel/exec.js';
import type { CurrentView } from './view/current.js';
import type { ViewChange } from './view/store.js';

const quiet: AgentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
/** The dataplane's own kernel access is never used here: the managers below have none, and the kernel port is `kernel` in setup. */
const noKernel = (): never => {
  throw new Error('no kernel in unit tests');
};
const noExec: Exec = { run: noKernel, spawnDetached: noKernel, watch: noKernel };

/** A view's ports, plugged (so the desired state changes with them): the test manager's part. */
const plugs = (view: HostViewSnapshot) =>
  Object.fromEntries(Object.values(view.ports).map((p) => [p.device, { device: p.device, master: 'sbr1', mtu: 1450, up: true }]));

function setup(
  opts: {
    fail?: () => boolean;
    devices?: string[];
    during?: (agent: Agent) => void;
    /** Give the test manager a membership fast path answering this way (the view then has a change journal). */
    fastPath?: () => 'handled' | 'not-applicable' | 'fail';
    debounceMs?: number;
    /** The dataplane is told of every link (the agent's link monitor runs); the test manager then also wants its bridge. */
    followsLinks?: boolean;
    duringApply?: () => void;
  } = {},
) {
  let current: CurrentView | null = null;
  const journal: ViewChange[] = [];
  const seen: HostViewSnapshot[] = [];
  const calls: string[] = [];
  const statuses: AgentReport[] = [];
  const fastPath = opts.fastPath;
  const manager: Manager = {
    name: 'test',
    desired: (view) => {
      seen.push(view);
      calls.push('full');
      return { kernel: { plugs: plugs(view), ...(opts.followsLinks ? { links: { sbr1: SBR1 } } : {}) } };
    },
    ...(fastPath
      ? {
          attach: () => ({
            fastPath: {
              handles: (c) => c.field === 'members',
              from: () => ({
                apply: async (changes) => {
                  const a = fastPath();
                  calls.push(`fast:${a}:${changes.length}`);
                  if (a === 'fail') throw new Error('Error: Could not process rule: No such file or directory');
                  return a === 'handled' ? { added: changes.length, deleted: 0 } : null;
                },
              }),
            },
          }),
        }
      : {}),
  };
  /** Kernel reads, and the devices plugged by applied plans. */
  const kernelLog = { reads: 0, plugged: [] as string[] };
  const kernel: KernelPort = {
    read: async () => {
      kernelLog.reads++;
      opts.during?.(agent);
      if (opts.fail?.()) throw new Error('RTNETLINK answers: Operation not permitted');
      return { ...emptyKernelState(), devices: opts.devices ?? [] };
    },
    apply: async (plan) => {
      opts.duringApply?.();
      for (const op of plan.batches.flatMap((b) => b.ops)) if (op.op === 'plug') kernelLog.plugged.push(op.plug.device);
    },
  };
  const dataplane = new Dataplane({ managers: [manager], io: { exec: noExec, nsPrefix: 'p-', stateDir: '/nonexistent' }, kernel, logger: quiet, followsLinks: opts.followsLinks ?? false });
  const agent = new Agent({
    hostId: 'hv1',
    view: () => current,
    resyncMs: 60_000,
    debounceMs: opts.debounceMs ?? 1,
    retryMs: 1,
    logger: quiet,
    identity: { bootId: 'boot-1', version: '0.1.0', startedAt: '2026-01-01T00:00:00.000Z' },
    onReport: (s) => statuses.push(s),
    dataplane,
  });
  /** The view at KV revision `revision` and log position `viewPosition` (default: the revision). */
  const setView = (view: HostViewSnapshot, revision: number, ...changes: ViewChange[]): void => setViewAt(view, revision, revision, ...changes);
  const setViewAt = (view: HostViewSnapshot, revision: number, viewPosition: number | null, ...changes: ViewChange[]): void => {
    journal.push(...changes);
    current = fastPath
      ? { view, revision, viewPosition, journal: { epoch: 1, position: journal.length, changesSince: (from) => journal.slice(from), trim: () => undefined } }
      : { view, revision, viewPosition };
    agent.viewChanged();
  };
  /** A key of a write arrived (`whole`: its position key, so the write is whole). */
  const setKey = (view: HostViewSnapshot, revision: number, whole: boolean): void => {
    current = { view, revision, viewPosition: revision };
    agent.viewChanged(whole);
  };
  /** The view at position `viewPosition`, written with a trace context (as hostview writes the position key). */
  const setTracedView = (view: HostViewSnapshot, viewPosition: number, viewTrace: { traceparent: string }): void => {
    current = { view, revision: viewPosition, viewPosition, viewTrace };
    agent.viewChanged();
  };
  return { agent, seen, calls, statuses, kernelLog, setView, setViewAt, setTracedView, setKey };
}

const SBR1: LinkState = { ns: '', name: 'sbr1', kind: 'bridge', master: null, mtu: 1450, mac: null, alias: '', up: true, vxlan: null, peer: null, brport: null };

const withPort = (): HostViewSnapshot => ({
  ...emptySnapshot(),
  ports: { p1: { id: 'p1', tenant: 't', networkId: 'n1', mac: '02:00:00:00:00:01', device: 'tap1', fixedIps: [], groupIds: [], portSecurity: true } },
});

describe('Agent', () => {
  it("starts a whole host-view write's pass without the coalescing delay; a key before its position waits for it", async () => {
    vi.useFakeTimers();
    try {
      const { seen, setKey } = setup({ devices: [], debounceMs: 10_000 });
      /** Let due timers fire and the pass's promises settle (fake time: nothing waits for real). */
      const advance = async (ms: number): Promise<void> => {
        await vi.advanceTimersByTimeAsync(ms);
        for (let i = 0; i < 10; i++) await vi.advanceTimersByTimeAsync(0);
      };
      setKey(withPort(), 1, false); // a port's key: the rest of the write (its position) is on its way
      await advance(9_000);
      expect(seen).toHaveLength(0);
      setKey(withPort(), 2, true); // the position: the write is whole
      await advance(0);
      expect(seen).toHaveLength(1);
      // Without its position, a key still waits the whole delay.
      setKey(emptySnapshot(), 3, false);
      await advance(9_000);
      expect(seen).toHaveLength(1);
      await advance(1_000);
      expect(seen).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('paces whole writes: the loop rests twice the last pass, never longer than the coalescing delay', () => {
    expect(restDelay(undefined, 1_000, 20)).toBe(0); // no pass yet: at once
    expect(restDelay({ startedAt: 100, endedAt: 103 }, 200, 20)).toBe(0); // rested long enough
    expect(restDelay({ startedAt: 100, endedAt: 103 }, 104, 20)).toBe(5); // a 3 ms pass: rest 6 ms after it
    expect(restDelay({ startedAt: 100, endedAt: 150 }, 150, 20)).toBe(20); // a long pass: at most the delay
  });

  it('writes nothing before the host view is complete', async () => {
    const { agent, seen } = setup();
    agent.trigger('resync');
    await agent.whenIdle();
    await agent.reconcileNow();
    expect(seen).toEqual([]);
  });

  it('coalesces a burst of changes into few reconciles of the latest view, and reports status', async () => {
    const { agent, seen, statuses, setView } = setup({ devices: [] });
    for (let i = 1; i <= 50; i++) setView(i === 50 ? withPort() : emptySnapshot(), i);
    await agent.whenIdle();
    expect(seen.length).toBeLessThanOrEqual(2);
    expect(seen.at(-1)).toEqual(withPort());
    expect(statuses.at(-1)).toMatchObject({
      hostId: 'hv1',
      bootId: 'boot-1',
      version: '0.1.0',
      viewRevision: 50,
      appliedPosition: 50,
      ports: [{ portId: 'p1', state: 'down', reason: 'device tap1 not present (not plugged)' }],
      error: null,
    });
  });

  it('increments the generation only when the desired state changes', async () => {
    const { agent, setView } = setup();
    setView(emptySnapshot(), 1);
    await agent.whenIdle();
    expect(agent.generation).toBe(1);
    await agent.reconcileNow();
    expect(agent.generation).toBe(1);
    setView(withPort(), 2);
    await agent.whenIdle();
    expect(agent.generation).toBe(2);
  });

  it('on failure: reports the error, keeps running, retries until it succeeds', async () => {
    let failures = 2;
    const { agent, seen, statuses, setView } = setup({ fail: () => failures-- > 0 });
    setView(emptySnapshot(), 7);
    for (let i = 0; i < 50 && statuses.at(-1)?.error !== null; i++) await agent.whenIdle();
    expect(seen).toHaveLength(3);
    expect(statuses.map((s) => s.error)).toEqual(['RTNETLINK answers: Operation not permitted', 'RTNETLINK answers: Operation not permitted', null]);
    // Nothing was applied before the first success.
    expect(statuses[0]).toMatchObject({ appliedPosition: null, appliedAt: null, viewRevision: 0 });
    expect(statuses.at(-1)).toMatchObject({ appliedPosition: 7, viewRevision: 7 });
    await agent.stop();
  });

  it('after a failed pass: every port of the view it tried in error, the last applied position kept; the retry reports the new one', async () => {
    let failures = 0;
    const { agent, statuses, setView, setViewAt } = setup({ devices: [], fail: () => failures-- > 0 });
    setView(withPort(), 3);
    await agent.whenIdle();
    expect(statuses.at(-1)).toMatchObject({ appliedPosition: 3, ports: [{ portId: 'p1', state: 'down' }], error: null });
    failures = 1;
    const before = statuses.length;
    setViewAt(withPort(), 5, 9);
    for (let i = 0; i < 50 && statuses.length < before + 2; i++) await agent.whenIdle();
    expect(statuses.slice(before).map((s) => s.error)).toEqual(['RTNETLINK answers: Operation not permitted', null]);
    expect(statuses[before]).toMatchObject({
      appliedPosition: 3,
      viewRevision: 3,
      ports: [{ portId: 'p1', state: 'error', reason: 'RTNETLINK answers: Operation not permitted' }],
    });
    expect(statuses.at(-1)).toMatchObject({ appliedPosition: 9, viewRevision: 5, ports: [{ portId: 'p1', state: 'down' }], error: null });
    expect(agent.heartbeat()).toMatchObject({ hostId: 'hv1', bootId: 'boot-1', version: '0.1.0', generation: agent.generation, appliedPosition: 9, error: null });
    expect(agent.report()).toMatchObject({ ...statuses.at(-1), sentAt: expect.any(String) });
    await agent.stop();
  });

  it('reconciles when a missing port device appears, not for unrelated links', async () => {
    const { agent, seen, setView } = setup({ devices: [] });
    setView(withPort(), 1);
    await agent.whenIdle();
    const n = seen.length;
    agent.onLink('eth7', false);
    await agent.whenIdle();
    expect(seen).toHaveLength(n);
    agent.onLink('tap1', false);
    await agent.whenIdle();
    expect(seen).toHaveLength(n + 1);
  });

  // With a view journal (as in production) the look again must still be a full pass: a fast pass has nothing new to apply.
  it.each([
    ['without', undefined],
    ['with', () => 'handled' as const],
  ])('looks again, fully, when a port device appears while a reconcile is running (%s a view journal; the event would otherwise be lost until the resync)', async (_journal, fastPath) => {
    let fired = false;
    const { agent, calls, seen, setView } = setup({
      devices: [],
      ...(fastPath ? { fastPath } : {}),
      // The NIC appears after this pass read the kernel: its result still reports the port down.
      during: (a) => {
        if (!fired && seen.length >= 1) {
          fired = true;
          a.onLink('tap1', false);
        }
      },
    });
    setView(withPort(), 1);
    await agent.whenIdle();
    expect(fired).toBe(true);
    expect(calls).toEqual(['full', 'full']);
  });

  it('told of every link: a NIC that appears is plugged by a full pass planned against the model of the kernel, without a read; the resync and a restarted link monitor read it', async () => {
    const { agent, kernelLog, setView } = setup({ devices: [], followsLinks: true, fastPath: () => 'handled' });
    agent.onLink('eth7', false);
    setView(withPort(), 1);
    await agent.whenIdle();
    expect(kernelLog).toEqual({ reads: 1, plugged: [] });
    agent.onLink('tap1', false);
    await agent.whenIdle();
    expect(kernelLog).toEqual({ reads: 1, plugged: ['tap1'] });
    // Deleted and back (a VM rebooted): plugged again, still without a read.
    agent.onLink('tap1', true);
    await agent.whenIdle();
    agent.onLink('tap1', false);
    await agent.whenIdle();
    expect(kernelLog).toEqual({ reads: 1, plugged: ['tap1', 'tap1'] });
    agent.trigger('resync');
    await agent.whenIdle();
    expect(kernelLog.reads).toBe(2);
    agent.linksLost();
    await agent.whenIdle();
    expect(kernelLog.reads).toBe(3);
  });

  it('told of every link: a NIC that appears during a pass, after it planned, is plugged by the next one without a read', async () => {
    let fired = false;
    let duringApply = (): void => undefined;
    const { agent, kernelLog, setView } = setup({ devices: [], followsLinks: true, fastPath: () => 'handled', duringApply: () => duringApply() });
    setView(emptySnapshot(), 1);
    await agent.whenIdle();
    // The NIC appears while the pass for the port applies (its model had no tap1 when it planned).
    duringApply = () => {
      if (fired) return;
      fired = true;
      agent.onLink('tap1', false);
    };
    setView(withPort(), 2, { field: 'ports', id: 'p1', before: undefined, after: undefined });
    await agent.whenIdle();
    expect(fired).toBe(true);
    expect(kernelLog).toEqual({ reads: 1, plugged: ['tap1'] });
  });
});

describe('Agent membership fast path', () => {
  const member = (p: string): ViewChange => ({ field: 'members', id: `g.${p}`, before: undefined, after: { groupId: 'g', portId: p, ips: ['10.0.0.9'] } });

  it('applies member-only changes after a full pass through the fast path, and the resync fully', async () => {
    const { agent, calls, statuses, setView } = setup({ fastPath: () => 'handled' });
    const change = async (revision: number, ...changes: ViewChange[]): Promise<void> => {
      setView(withPort(), revision, ...changes);
      await agent.whenIdle();
    };
    await change(1);
    await change(2, member('p1'), member('p2'));
    expect(calls).toEqual(['full', 'fast:handled:2']);
    expect(statuses.at(-1)).toMatchObject({ generation: 2, viewRevision: 2, error: null });
    await change(3, member('p3'));
    expect(calls.at(-1)).toBe('fast:handled:1');
    agent.trigger('resync');
    await agent.whenIdle();
    expect(calls.at(-1)).toBe('full');
  });

  it('runs the full reconcile for any other change, when the fast path does not apply, and after it failed', async () => {
    let next: 'not-applicable' | 'fail' = 'not-applicable';
    const { agent, calls, statuses, setView } = setup({ fastPath: () => next });
    const change = async (revision: number, ...changes: ViewChange[]): Promise<void> => {
      setView(withPort(), revision, ...changes);
      await agent.whenIdle();
    };
    await change(1);
    await change(2, { field: 'ports', id: 'p1', before: undefined, after: withPort().ports['p1'] });
    await change(3, member('p1'));
    next = 'fail';
    await change(4, member('p2'));
    expect(calls).toEqual(['full', 'full', 'fast:not-applicable:1', 'full', 'fast:fail:1', 'full']);
    expect(statuses.at(-1)).toMatchObject({ viewRevision: 4, error: null });
  });

  it('a change of the view position alone is a pass with no kernel work that moves the applied position', async () => {
    const { agent, calls, statuses, setViewAt } = setup({ fastPath: () => 'handled' });
    const position = (seq: number): ViewChange => ({ field: 'position', id: '', before: undefined, after: seq });
    setViewAt(withPort(), 1, 10, position(10));
    await agent.whenIdle();
    const generation = agent.generation;
    setViewAt(withPort(), 2, 11, position(11));
    await agent.whenIdle();
    // No full pass, no fast path asked to apply anything; the report says position 11 is applied.
    expect(calls).toEqual(['full']);
    expect(statuses.at(-1)).toMatchObject({ appliedPosition: 11, viewRevision: 2, generation, error: null });
    // With a member change, only the member goes to the fast path.
    setViewAt(withPort(), 4, 12, member('p1'), position(12));
    await agent.whenIdle();
    expect(calls).toEqual(['full', 'fast:handled:1']);
    expect(statuses.at(-1)).toMatchObject({ appliedPosition: 12 });
  });
});

describe('Agent passes as spans', () => {
  const exported = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: exported })] });
  beforeAll(() => void trace.setGlobalTracerProvider(provider));
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
  });
  const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
  const traced = (span: string) => ({ traceparent: `00-${TRACE_ID}-${span}-01` });

  it("a pass applying a new position continues the trace written with it; a pass at the same position (a resync) is a root of its own", async () => {
    const { agent, setTracedView } = setup();
    setTracedView(withPort(), 10, traced('00f067aa0ba902b7'));
    await agent.whenIdle();
    await agent.reconcileNow();
    const [applying, resync] = exported.getFinishedSpans();
    expect(applying).toMatchObject({ name: 'agent apply', attributes: { 'strata.host': 'hv1', 'strata.view.position': 10 } });
    expect(applying!.spanContext().traceId).toBe(TRACE_ID);
    expect(applying!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(resync!.spanContext().traceId).not.toBe(TRACE_ID);
    expect(resync!.parentSpanContext).toBeUndefined();
    await agent.stop();
  });
});
