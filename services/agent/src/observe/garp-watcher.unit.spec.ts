import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GarpObservation, LocalPort } from '@strata/contracts';
import type { Exec } from '../kernel/exec.js';
import { CAPTURE } from './garp.fixture.js';
import { GarpWatcher, garpTcpdumpArgv } from './garp-watcher.js';

/** An Exec whose watched processes the test drives: their lines and their exit. */
function fakeExec() {
  const procs: Array<{ argv: readonly string[]; line: (l: string) => void; exit: (c: number | null) => void; stopped: boolean }> = [];
  const exec: Exec = {
    run: () => Promise.resolve({ stdout: '', stderr: '', code: 0 }),
    spawnDetached: () => 0,
    watch(argv, onLine, onExit) {
      const p = { argv, line: onLine, exit: onExit, stopped: false };
      procs.push(p);
      return { stop: () => ((p.stopped = true), onExit(null)) };
    },
  };
  return { exec, procs };
}

const port = (id: string, pairs: boolean): LocalPort => ({
  id,
  tenant: 't',
  networkId: 'n',
  mac: '02:00:00:00:00:0a',
  fixedIps: [],
  device: 'tapx',
  groupIds: [],
  portSecurity: true,
  ...(pairs ? { allowedAddressPairs: [{ ipAddress: '10.0.0.100', macAddress: '02:00:00:00:00:0a' }] } : {}),
});

const quiet = { info: () => undefined, warn: () => undefined };

describe('the GARP watcher process', () => {
  afterEach(() => vi.useRealTimers());

  it('runs one tcpdump on the nflog group only while a local port has pairs, and stops it by its handle', () => {
    const { exec, procs } = fakeExec();
    const w = new GarpWatcher({ hostId: 'hv1', exec, publish: () => undefined, logger: quiet });
    w.update([port('p1', false)]);
    expect(procs).toHaveLength(0);
    w.update([port('p1', true), port('p2', true)]);
    w.update([port('p1', true)]);
    expect(procs.map((p) => p.argv)).toEqual([garpTcpdumpArgv()]);
    w.update([port('p1', false)]);
    expect(procs[0]!.stopped).toBe(true);
    w.update([port('p1', true)]);
    expect(procs).toHaveLength(2);
    w.stop();
    expect(procs[1]!.stopped).toBe(true);
  });

  it('restarts it with backoff when it dies while needed, not when no longer needed', () => {
    vi.useFakeTimers();
    const { exec, procs } = fakeExec();
    const w = new GarpWatcher({ hostId: 'hv1', exec, publish: () => undefined, logger: quiet, restartMs: 100 });
    w.update([port('p1', true)]);
    procs[0]!.exit(1);
    vi.advanceTimersByTime(99);
    expect(procs).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(procs).toHaveLength(2);
    procs[1]!.exit(1);
    vi.advanceTimersByTime(199);
    expect(procs).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(procs).toHaveLength(3);
    w.update([]);
    procs[2]!.exit(1);
    vi.advanceTimersByTime(10_000);
    expect(procs).toHaveLength(3);
  });

  it("publishes what the decider keeps from the process's output", () => {
    const { exec, procs } = fakeExec();
    const seen: GarpObservation[] = [];
    const w = new GarpWatcher({ hostId: 'hv1', exec, publish: (o) => seen.push(o), logger: quiet, now: () => 0 });
    w.update([{ ...port('port-abc', true) }]);
    for (const l of CAPTURE)
      procs[0]!.line(l);
    expect(seen).toEqual([{ hostId: 'hv1', portId: 'port-abc', ip: '10.0.0.100', mac: '02:00:00:00:00:0a' }]);
  });
});
