/**
 * The fault tier on a three-node NATS cluster (every stream and bucket with
 * three replicas, every service given all three URLs): under the same mixed
 * load, the event stream's leader node killed with SIGKILL and started
 * again, then all three nodes killed at once and started again. After
 * each: no acknowledged command lost, none applied twice, every service's
 * digest equal to a fresh replay, every host's view equal to a fresh
 * derivation and applied by its agent, and real packets between VMs on the
 * two hypervisors as the security policy says, while the nodes are down
 * (the agents fail static) and after (support/data-plane.ts). The figures
 * are printed as a table (docs/performance.md, "Fault injection (issue
 * 18)").
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import { DEFAULT_EVENT_LOG_OPTIONS } from '@strata/eventlog';
import { startFaultPlane, type FaultPlane } from './support/plane.js';
import { DOWN_MS, figuresTable, runFault, type Fault, type FaultFigures } from './support/run-fault.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The node leading the event stream's raft group now (the one whose loss forces an election). */
async function eventLogLeader(plane: FaultPlane): Promise<number> {
  const info = await (await plane.admin.jetstreamManager()).streams.info(DEFAULT_EVENT_LOG_OPTIONS.streamName);
  const leader = info.cluster?.leader;
  if (!leader) throw new Error(`the event stream reports no leader: ${JSON.stringify(info.cluster)}`);
  return plane.cp.cluster!.indexOf(leader);
}

let killed = -1;
const leaderNode: Fault = {
  name: 'kill -9 one NATS node (the event log leader)',
  async inject(plane) {
    killed = await eventLogLeader(plane);
    await plane.cp.cluster!.killNode(killed);
    await pause(DOWN_MS);
  },
  async heal(plane) {
    await plane.cp.cluster!.startNode(killed);
  },
};

const allNodes: Fault = {
  name: 'kill -9 all three NATS nodes',
  async inject(plane) {
    const cluster = plane.cp.cluster!;
    await Promise.all(cluster.nodes.map((_, i) => cluster.killNode(i)));
    await pause(DOWN_MS);
  },
  async heal(plane) {
    const cluster = plane.cp.cluster!;
    // Together: a node's health needs a JetStream quorum, which one node alone never has.
    await Promise.all(cluster.nodes.map((_, i) => cluster.startNode(i)));
  },
};

describeIf(kernel(['nft', '--version']))('fault injection: a three-node NATS cluster', () => {
  let plane: FaultPlane;
  const rows: FaultFigures[] = [];

  beforeAll(async () => {
    plane = await startFaultPlane({ cluster: true });
  });

  afterAll(async () => {
    if (rows.length > 0) console.log(`fault injection, NATS cluster:\n${figuresTable(rows)}`);
    await plane?.destroy();
  });

  for (const fault of [leaderNode, allNodes]) {
    it(`${fault.name} under load: nothing acknowledged lost, nothing applied twice, digests = replay, views = derivation, packets as the policy says`, async () => {
      const r = await runFault(plane, fault);
      rows.push(r);
      expect(r.lost).toEqual([]);
      expect(r.duplicated).toEqual([]);
      expect(r.acknowledged + Object.values(r.failed).reduce((a, b) => a + b, 0)).toBe(r.sent);
      expect(r.acknowledged).toBeGreaterThan(0);
      expect(r.packetsDuring).toEqual([]);
      expect(r.packetsAfter).toEqual([]);
    }, 300_000);
  }
});
