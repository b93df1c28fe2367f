/**
 * nftables transactions in the namespace the agent manages: through the
 * long-lived libnftables worker (nft-worker.ts) while it runs, else one
 * `nft -f -` process each. Shared by the full plan's nft batch
 * (kernel/apply.ts) and the membership fast path, so one worker serves both.
 */
import { runOk, type Exec } from './exec.js';
import { NftWorker, NftWorkerError } from './nft-worker.js';

export interface NftRunner {
  /** One transaction; throws with nft's message when nft refused it. */
  run(script: string): Promise<void>;
  stop(): void;
}

export function nftRunner(exec: Exec, useWorker = true): NftRunner {
  const worker = useWorker ? new NftWorker(exec) : null;
  return {
    async run(script) {
      if (worker?.usable) {
        try {
          await worker.apply(script);
          return;
        } catch (err) {
          // nft refused the script: that is the answer. The worker failing is not: fall back to a process.
          if (!(err instanceof NftWorkerError)) throw err;
        }
      }
      await runOk(exec, ['nft', '-f', '-'], script);
    },
    stop: () => worker?.stop(),
  };
}
