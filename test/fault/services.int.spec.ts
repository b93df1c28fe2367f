/**
 * The fault tier, on one nats-server: under a mixed command load through
 * the gRPC API, each service process in turn killed with SIGKILL and
 * started again (ipam — one of its two instances —, secgroup, nat,
 * chaining, status, hostview, the agent of hv2, the api itself), and the
 * api restarted behind its clients. After each: no acknowledged command lost, none
 * applied twice, every service's digest equal to a fresh replay, every
 * host's view equal to a fresh derivation and applied by its agent, and
 * real packets between VMs on the two hypervisors as the security policy
 * says, while the fault is on and after it (support/data-plane.ts). The
 * figures are printed as a table (docs/performance.md, "Fault injection
 * (issue 18)").
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import { startFaultPlane, type FaultPlane } from './support/plane.js';
import { apiRestart, figuresTable, kill9, kill9Agent, runFault, type Fault, type FaultFigures } from './support/run-fault.js';

const FAULTS: Fault[] = [
  kill9('ipam-1'),
  kill9('secgroup'),
  kill9('nat'),
  kill9('chaining'),
  kill9('status'),
  kill9('hostview'),
  // b's host: the fault's rule opens a port on b, so it can only pass once this agent is back.
  kill9Agent('hv2'),
  kill9('api'),
  apiRestart,
];

describeIf(kernel(['nft', '--version']))('fault injection: service processes (one nats-server)', () => {
  let plane: FaultPlane;
  const rows: FaultFigures[] = [];

  beforeAll(async () => {
    plane = await startFaultPlane();
  });

  afterAll(async () => {
    if (rows.length > 0) console.log(`fault injection, service processes:\n${figuresTable(rows)}`);
    await plane?.destroy();
  });

  for (const fault of FAULTS) {
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
