/**
 * A long-lived nftables worker: one process that keeps libnftables loaded
 * (Debian's python3-nftables, the official binding) and runs each script it
 * is sent as one transaction, in the namespace the agent manages.
 *
 * Why: the membership fast path's work is one small transaction, and
 * starting an `nft` process for it (exec, library init, netlink cache) cost
 * ~3.5 ms of CPU, half of the agent's whole cost per change; in-process
 * libnftables takes ~0.1 ms per transaction (measured here with a 10k-element
 * set). The worker is an optimisation only: when it cannot run (no
 * python3-nftables) or fails, the caller runs `nft -f -` as before.
 *
 * Protocol: one JSON line per request `{"id": n, "script": "…"}`, one JSON
 * line per reply `{"id": n, "rc": 0, "err": ""}`; a first line `{"ready": true}`.
 */
import type { Exec } from './exec.js';

const WORKER = `
import json, sys
try:
    import nftables
except ImportError as e:
    print(json.dumps({"ready": False, "err": str(e)}), flush=True)
    sys.exit(0)
nft = nftables.Nftables()
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    rc, out, err = nft.cmd(req["script"])
    print(json.dumps({"id": req["id"], "rc": rc, "err": err}), flush=True)
`;

/** Debian's interpreter (its dist-packages has the binding), not whichever python3 is first on PATH. */
export const NFT_WORKER_PYTHON = '/usr/bin/python3';

export class NftWorkerError extends Error {
  override readonly name = 'NftWorkerError';
}

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class NftWorker {
  private proc: { write(text: string): void; stop(): void } | null = null;
  private ready: Promise<boolean> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Set when the worker cannot run here: callers use `nft -f -` from then on. */
  private unavailable: string | null = null;
  /** Bumped by stop(): a process that exits after being replaced must not touch its successor's state. */
  private generation = 0;

  constructor(
    private readonly exec: Exec,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Whether the worker may be used (it has not been found missing). */
  get usable(): boolean {
    return this.unavailable === null && this.exec.interact !== undefined;
  }

  /** Run one nft script as a transaction; throws NftWorkerError when the worker cannot, Error with nft's message when nft refused it. */
  async apply(script: string): Promise<void> {
    if (!(await this.start())) throw new NftWorkerError(`nft worker unavailable: ${this.unavailable ?? 'not started'}`);
    const id = this.nextId++;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.restart();
        reject(new NftWorkerError(`nft worker did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.proc!.write(`${JSON.stringify({ id, script })}\n`);
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new NftWorkerError((e as Error).message));
      }
    });
  }

  stop(): void {
    this.generation++;
    this.proc?.stop();
    this.proc = null;
    this.ready = null;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new NftWorkerError('nft worker stopped'));
      this.pending.delete(id);
    }
  }

  private restart(): void {
    this.stop();
  }

  private start(): Promise<boolean> {
    if (!this.usable) return Promise.resolve(false);
    if (this.ready) return this.ready;
    const generation = this.generation;
    this.ready = new Promise<boolean>((resolveReady) => {
      let readySeen = false;
      const onLine = (line: string): void => {
        let msg: { ready?: boolean; err?: string; id?: number; rc?: number };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          return;
        }
        if (msg.ready !== undefined) {
          readySeen = true;
          if (!msg.ready) this.unavailable = msg.err ?? 'python3-nftables missing';
          resolveReady(msg.ready);
          return;
        }
        const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id!);
        clearTimeout(p.timer);
        if (msg.rc === 0) p.resolve();
        else p.reject(new Error(`nft: ${(msg.err ?? '').trim() || `exit ${msg.rc}`}`));
      };
      const onExit = (code: number | null): void => {
        resolveReady(false);
        if (generation !== this.generation) return;
        // Gone before it said it was ready (no interpreter, a crash at import): not usable here.
        if (!readySeen && this.unavailable === null) this.unavailable = `worker exited before it was ready (${code})`;
        this.proc = null;
        this.ready = null;
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new NftWorkerError(`nft worker exited (${code})`));
          this.pending.delete(id);
        }
      };
      try {
        this.proc = this.exec.interact!([NFT_WORKER_PYTHON, '-u', '-c', WORKER], onLine, onExit);
      } catch (e) {
        this.unavailable = (e as Error).message;
        resolveReady(false);
      }
    });
    return this.ready;
  }
}
