/**
 * Many simulated hypervisors in one process: started a bounded number at a
 * time (each makes its own NATS connection as its own user), stopped
 * together, and asked together (what each received, whether each applied
 * a position).
 */
import { SimHypervisor, type Received, type SimHypervisorOptions } from './hypervisor.js';

export interface FleetOptions extends Omit<SimHypervisorOptions, 'hostId' | 'password'> {
  hosts: readonly string[];
  /** Each host's NATS password, by user (`agent-<host>`), as the operator provisioned them. */
  passwords: Readonly<Record<string, string>>;
  /** Connections made at once while starting (default 20). */
  startConcurrency?: number;
  /** Called after each host started (its connection made, its watch begun). */
  onStarted?: (started: number) => void;
}

export interface Fleet {
  readonly sims: ReadonlyMap<string, SimHypervisor>;
  get(hostId: string): SimHypervisor;
  /** Every host's received counters, by host. */
  received(): Map<string, Received>;
  stop(): Promise<void>;
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const { hosts, passwords, startConcurrency = 20, onStarted, ...common } = o;
  const sims = new Map<string, SimHypervisor>();
  for (const hostId of hosts) {
    const password = passwords[`agent-${hostId}`];
    if (password === undefined) throw new Error(`no NATS password for agent-${hostId}: provision the host first`);
    sims.set(hostId, new SimHypervisor({ ...common, hostId, password }));
  }
  const stop = async (): Promise<void> => {
    await Promise.all([...sims.values()].map((s) => s.stop().catch(() => undefined)));
  };
  try {
    const queue = [...sims.values()];
    let started = 0;
    await Promise.all(
      Array.from({ length: Math.min(startConcurrency, queue.length) }, async () => {
        for (let s = queue.shift(); s; s = queue.shift()) {
          await s.start();
          onStarted?.(++started);
        }
      }),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    sims,
    get(hostId) {
      const s = sims.get(hostId);
      if (!s) throw new Error(`no simulated hypervisor ${hostId}`);
      return s;
    },
    received: () => new Map([...sims].map(([h, s]) => [h, s.receivedSoFar()])),
    stop,
  };
}
