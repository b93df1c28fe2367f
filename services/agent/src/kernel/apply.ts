/**
 * Execute a plan: batch by batch, in order; within a batch, consecutive lines
 * for the same tool and namespace go to one `ip -batch -` / `bridge -batch -`;
 * the nftables operation is one `nft -f -` (a transaction: all or nothing).
 * The first failure stops the apply with an ApplyError: the agent then
 * re-reads the kernel and plans again from what is really there.
 */
import { HOST_NS, type Batch, type Plan } from '../core/types.js';
import { ExecError, runOk, type Exec } from './exec.js';
import type { NftRunner } from './nft-runner.js';
import { renderOp, type Command } from './render.js';

export class ApplyError extends Error {
  override readonly name = 'ApplyError';
  constructor(
    readonly phase: string,
    override readonly cause: unknown,
  ) {
    super(`apply failed in phase ${phase}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** One program invocation. */
export interface Invocation {
  argv: string[];
  input?: string;
  /** Run with Exec.runHost (namespace management). */
  host?: boolean;
  /** An nft transaction in the managed namespace (`input` is its script): a shared runner may carry it out. */
  nft?: boolean;
}

/** The invocations that carry out one batch (pure: what `applyPlan` runs). */
export function batchInvocations(batch: Batch): Invocation[] {
  const out: Invocation[] = [];
  let group: { tool: 'ip' | 'bridge'; ns: string; family: 4 | 6; lines: string[] } | undefined;
  const flush = (): void => {
    if (!group) return;
    const nsArgs = group.ns === HOST_NS ? [] : ['-n', group.ns];
    // `-6` is a program option: a batch line cannot carry it.
    out.push({ argv: [group.tool, ...(group.family === 6 ? ['-6'] : []), ...nsArgs, '-batch', '-'], input: `${group.lines.join('\n')}\n` });
    group = undefined;
  };
  const commands: Command[] = batch.ops.flatMap(renderOp);
  for (const c of commands) {
    if (c.tool === 'nft') {
      flush();
      out.push({ argv: [...(c.ns === HOST_NS ? [] : ['ip', 'netns', 'exec', c.ns]), 'nft', '-f', '-'], input: c.script, ...(c.ns === HOST_NS ? { nft: true } : {}) });
    } else if (c.tool === 'exec' || c.tool === 'netns') {
      flush();
      out.push({ argv: c.argv, ...(c.tool === 'netns' ? { host: true } : {}) });
    } else if (group && group.tool === c.tool && group.ns === c.ns && group.family === (c.family ?? 4)) {
      group.lines.push(c.line);
    } else {
      flush();
      group = { tool: c.tool, ns: c.ns, family: c.family ?? 4, lines: [c.line] };
    }
  }
  flush();
  return out;
}

/** `nft`: runs the managed namespace's nft transactions (the long-lived worker, kernel/nft-runner.ts); default: an `nft -f -` process each. */
export async function applyPlan(exec: Exec, plan: Plan, nft?: NftRunner): Promise<void> {
  for (const batch of plan.batches) {
    for (const inv of batchInvocations(batch)) {
      try {
        if (inv.nft && nft) await nft.run(inv.input!);
        else await runOk(exec, inv.argv, inv.input, inv.host);
      } catch (err) {
        throw new ApplyError(batch.phase, err instanceof ExecError && inv.input ? withInput(err) : err);
      }
    }
  }
}

const MAX_INPUT_IN_ERROR = 8000;

function withInput(err: ExecError): Error {
  const input = err.input ?? '';
  const shown = input.length > MAX_INPUT_IN_ERROR ? `${input.slice(0, MAX_INPUT_IN_ERROR)}\n… (${input.length} characters)` : input;
  return new Error(`${err.message}\n--- batch ---\n${shown}`);
}
