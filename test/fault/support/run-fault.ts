/**
 * One fault under load, then the checks: a fresh ledger and load, the fault
 * injected once the load is under way, the packets checked while it is on
 * (fail static) and a rule for the probe VMs sent, the fault healed, the
 * load kept going until it has been served again after the fault, then
 * drained (every command answered or given up), then the checks polled
 * until they pass, then the packets checked again (data-plane.ts). The
 * figures of the run come back as a row.
 */
import { waitFor } from '@strata/testing';
import { auditLedger, readLog, viewMismatches } from './checks.js';
import { Ledger, type LedgerFigures } from './ledger.js';
import { Load } from './load.js';
import type { FaultPlane } from './plane.js';
import { HOSTS } from './plane.js';

export interface Fault {
  name: string;
  /** Break something; resolve once it is broken. */
  inject(plane: FaultPlane): Promise<void>;
  /** Undo it (restart what was killed); resolve once it is running again. */
  heal(plane: FaultPlane): Promise<void>;
}

export interface FaultFigures extends LedgerFigures {
  fault: string;
  lost: string[];
  duplicated: string[];
  /** The heal itself: from the restart issued to the process (or node) ready again, ms. */
  healMs: number;
  /** From the heal starting (the restart issued) to every check passing, ms. */
  convergenceMs: number;
  /** From the heal starting to the first packet through the port the rule sent during the fault opened, ms. */
  firstPacketMs: number;
  /** What the packets did against the policy while the fault was on, [] when they agreed (fail static). */
  packetsDuring: string[];
  /** The same after the heal and the checks, the fault's rule included; [] when they agreed. */
  packetsAfter: string[];
}

/** Workers (clients) of the load, each its own channel and request ids. */
const WORKERS = 4;
/** Acknowledged commands before the fault, and after the heal before the load stops. */
const BEFORE = 30;
const AFTER = 15;
/** How long a killed process stays dead. */
export const DOWN_MS = 2_000;

/** Progress on stderr: a fault run is long, and a stuck phase must be visible in the output. */
const phase = (fault: Fault, what: string, ledger: Ledger): void =>
  console.error(`[fault ${new Date().toISOString().slice(11, 23)}] ${fault.name}: ${what} (${JSON.stringify(ledger.figures())}, in flight ${ledger.pending()})`);

export async function runFault(plane: FaultPlane, fault: Fault): Promise<FaultFigures> {
  const ledger = new Ledger();
  const load = new Load(
    Array.from({ length: WORKERS }, () => plane.client(ledger)),
    plane.setup,
  ).start();
  try {
    await waitFor(() => load.acknowledged >= BEFORE, { timeoutMs: 60_000, intervalMs: 20, message: `${BEFORE} commands acknowledged before the fault` });
    phase(fault, 'injecting', ledger);
    await fault.inject(plane);
    // The rule is a client's command like any other (its own request id, re-sent until answered, in the ledger).
    const port = plane.packets.nextFaultPort();
    const change = plane.packets.faultChange(plane.client(ledger), port);
    change.catch(() => undefined);
    const packetsDuring = await plane.packets.problems();
    phase(fault, `packets while it is on: ${packetsDuring.length === 0 ? 'as the policy says' : packetsDuring.join('; ')}`, ledger);
    const healing = Date.now();
    phase(fault, 'healing', ledger);
    // Probed from the heal on, alongside the load and the checks: when the rule's first packet passes.
    const firstPacket = plane.packets.firstPacket(port, 180_000);
    firstPacket.catch(() => undefined);
    await fault.heal(plane);
    const healMs = Date.now() - healing;
    const served = load.acknowledged;
    phase(fault, 'healed', ledger);
    await waitFor(() => load.acknowledged >= served + AFTER, { timeoutMs: 90_000, intervalMs: 20, message: `${AFTER} commands acknowledged after ${fault.name}` });
    phase(fault, 'stopping the load', ledger);
    await load.stop();
    phase(fault, 'load stopped; checking', ledger);
    let last: string[] = [];
    const converged = async (): Promise<boolean> => {
      const end = await plane.store.lastSeq();
      last = [...(await plane.digests.mismatches(end)), ...(await viewMismatches(plane.admin, plane.store, HOSTS)), ...(await plane.packets.agentsBehind(plane.admin))];
      return last.length === 0 && (await plane.store.lastSeq()) === end;
    };
    await waitFor(converged, { timeoutMs: 120_000, intervalMs: 250, message: `convergence after ${fault.name}` }).catch((err: unknown) => {
      throw new Error(`${String(err)}; still differing: ${last.join('; ')}`);
    });
    const convergenceMs = Date.now() - healing;
    phase(fault, `converged in ${convergenceMs} ms`, ledger);
    await change;
    phase(fault, `the fault's rule acknowledged; waiting for its first packet`, ledger);
    const firstPacketMs = Math.max(0, (await firstPacket) - healing);
    const packetsAfter = await plane.packets.problems([port]);
    phase(fault, `first packet through tcp/${port} ${firstPacketMs} ms after the heal; packets after: ${packetsAfter.length === 0 ? 'as the policy says' : packetsAfter.join('; ')}`, ledger);
    const { lost, duplicated } = auditLedger(ledger, await readLog(plane.store));
    return { fault: fault.name, ...ledger.figures(), lost, duplicated, healMs, convergenceMs, firstPacketMs, packetsDuring, packetsAfter };
  } finally {
    await load.stop();
  }
}

/** A service process killed with SIGKILL, left dead for DOWN_MS, then started again with its environment. */
export const kill9 = (process: string): Fault => ({
  name: `kill -9 ${process}`,
  async inject(plane) {
    await plane.process(process).kill9();
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
  },
  async heal(plane) {
    await plane.cp.restart(process);
  },
});

/**
 * A hypervisor's agent killed with SIGKILL, left dead for DOWN_MS, then
 * started again: its VMs keep talking meanwhile (the kernel keeps what it
 * applied), and the rule sent meanwhile reaches its kernel once it is back.
 */
export const kill9Agent = (host: string): Fault => ({
  name: `kill -9 agent-${host}`,
  async inject(plane) {
    await plane.packets.host(host).agent!.kill9();
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
  },
  async heal(plane) {
    await plane.packets.startAgent(plane.packets.host(host));
  },
});

/** The API stopped gracefully and started again while clients keep sending. */
export const apiRestart: Fault = {
  name: 'restart api (graceful)',
  async inject() {},
  async heal(plane) {
    await plane.cp.restart('api');
  },
};

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The figures as a table (console output of the fault tier). */
export function figuresTable(rows: readonly FaultFigures[]): string {
  const failed = (r: FaultFigures): string =>
    Object.entries(r.failed)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ') || '0';
  const head = ['fault', 'sent', 'acknowledged', 'failed (by code)', 'retries', 'lost', 'duplicated', 'restart', 'convergence', 'first packet'];
  const body = rows.map((r) => [
    r.fault,
    String(r.sent),
    String(r.acknowledged),
    failed(r),
    String(r.retries),
    String(r.lost.length),
    String(r.duplicated.length),
    seconds(r.healMs),
    seconds(r.convergenceMs),
    seconds(r.firstPacketMs),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
