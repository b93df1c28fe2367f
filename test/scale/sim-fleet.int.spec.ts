/**
 * Issue 18, the scale simulation in small: 20 simulated hypervisors (the
 * real agent core against in-memory kernels, each with its own NATS
 * connection as its own per-host user and its own host-view watch) against
 * the real control plane (startControlPlane with hostview: nats-server with
 * the production users, ipam x2, secgroup, hostview, … as processes).
 *
 * Checks: every host's kernel converges to exactly what a fresh derivation
 * wants (the whole log folded anew by hostview's own input nodes and key
 * families, turned into kernel state by the agent's managers: the diff
 * against the simulated kernel is empty and the DHCP servers match); and a
 * change concerns only the hosts of its network: the others receive no
 * host-view entry at all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredState, diff, HostViewStore, planSize } from '@strata/agent';
import { startFleet, type Fleet, type SimHypervisor } from '@strata/agent/sim';
import { JetStreamEventStore } from '@strata/eventlog';
import { applyEvent, computeHost, emptyModel, toModelEvent } from '@strata/hostview';
import {
  buildScaleCloud,
  createScalePort,
  IpamClient,
  moveScalePort,
  registerScaleHosts,
  scaleHostId,
  SecgroupClient,
  SeqTracker,
  startControlPlane,
  type ControlPlane,
  type ScaleCloud,
  type ScaleClients,
} from '@strata/lab';
import { commandSignerFrom } from '@strata/runtime';
import { freePort, waitFor } from '@strata/testing';

const HOSTS = 20;
const NS_PREFIX = 'strata-';

describe('scale simulation: 20 simulated hypervisors against the real control plane', () => {
  let dir: string;
  let cp: ControlPlane;
  let nc: NatsConnection;
  let admin: NatsConnection;
  let clients: ScaleClients;
  let cloud: ScaleCloud;
  let fleet: Fleet | undefined;
  const hosts = Array.from({ length: HOSTS }, (_, i) => scaleHostId(i + 1));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-scale-'));
    cp = await startControlPlane(dir, [], () => undefined, { natsPort: await freePort(), apiAddr: `127.0.0.1:${await freePort()}`, agents: hosts, hostview: true });
    nc = await connect({ servers: cp.natsUrl, user: 'api', pass: cp.passwords['api']!, inboxPrefix: '_INBOX_api' });
    admin = await connect({ servers: cp.natsUrl, user: 'admin', pass: cp.passwords['admin']! });
    const signer = commandSignerFrom({ STRATA_COMMAND_SIGNING_KEY: cp.commandKeys.signingKey });
    const seq = new SeqTracker();
    clients = { ipam: new IpamClient(nc, 15_000, seq, signer), secgroup: new SecgroupClient(nc, 15_000, seq, signer) };
    expect(await registerScaleHosts(clients, HOSTS)).toEqual(hosts);
    // Two blocks of 10 hosts, two networks each (4 ports per host, 80 in all), 8 groups.
    cloud = await buildScaleCloud(clients, hosts, { hosts: HOSTS, portsPerHost: 4, span: 10, portsPerHostPerNet: 2, portsPerGroup: 10, concurrency: 8 });
    fleet = await startFleet({ hosts, passwords: cp.passwords, servers: cp.natsUrl, nsPrefix: NS_PREFIX, heartbeatMs: 0 });
  });

  afterAll(async () => {
    await fleet?.stop();
    for (const c of [nc, admin]) if (c && !c.isClosed()) await c.close();
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Each host's desired state from the whole log, folded afresh. */
  async function freshDerivation(): Promise<Map<string, ReturnType<typeof desiredState>>> {
    const store = await JetStreamEventStore.open(admin);
    const model = emptyModel();
    for await (const stored of store.read({ fromSeq: 1 })) {
      const event = toModelEvent(stored);
      if (event) applyEvent(model, event);
    }
    const out = new Map<string, ReturnType<typeof desiredState>>();
    for (const host of hosts) {
      const view = new HostViewStore(host);
      let revision = 0;
      for (const [key, value] of computeHost(model, host).keys) view.apply({ key, operation: 'PUT', revision: ++revision, value });
      out.set(host, desiredState(view.snapshot(), { nsPrefix: NS_PREFIX }));
    }
    return out;
  }

  /** Hosts whose simulated kernel differs from the fresh derivation (kernel objects or DHCP servers), with the first difference. */
  async function divergent(): Promise<string[]> {
    const fresh = await freshDerivation();
    const out: string[] = [];
    for (const [host, want] of fresh) {
      const sim = fleet!.get(host);
      const plan = diff(want.kernel, await sim.kernel.read());
      if (planSize(plan) > 0) out.push(`${host}: ${planSize(plan)} operations to do, first ${JSON.stringify(plan.batches[0]!.ops[0]).slice(0, 300)}`);
      else if (!isDeepStrictEqual(sim.kernel.dhcp, want.dhcp)) out.push(`${host}: DHCP servers differ: ${JSON.stringify(sim.kernel.dhcp).slice(0, 300)}`);
    }
    return out;
  }

  /** Every host's kernel = a fresh derivation, within a minute; else fail naming the hosts that differ and how. */
  async function converged(what: string): Promise<void> {
    let last: string[] = [];
    try {
      await waitFor(async () => (last = await divergent()).length === 0, { timeoutMs: 60_000, intervalMs: 250 });
    } catch {
      throw new Error(`${what}: ${last.length} simulated hosts differ from a fresh derivation:\n${last.slice(0, 5).join('\n')}`);
    }
  }

  const entries = (): Map<string, number> => new Map([...fleet!.received()].map(([h, r]) => [h, r.entries]));
  const block = (b: number): string[] => hosts.slice(b * 10, b * 10 + 10);
  const onEvery = (sims: SimHypervisor[], until: Parameters<SimHypervisor['when']>[0]): Promise<number[]> => Promise.all(sims.map((s) => s.when(until)));

  it('given the built cloud, then every host converges to what a fresh derivation of the log wants, with its ports plugged and filtered', async () => {
    await converged('after the build');
    for (const host of hosts) {
      const k = fleet!.get(host).kernel.peek();
      expect(Object.keys(k.plugs)).toHaveLength(4);
      // Its two networks' member sets: each of its 4 ports is in a group with a member on every host of the block.
      expect(Object.keys(k.nft.tables.inet?.sets ?? {}).filter((s) => s.endsWith('_v4'))).toHaveLength(4);
    }
  });

  it('given a port created in a network of the first block, then only that block hears of it: the other hosts receive nothing, and all converge', async () => {
    const before = entries();
    const n = cloud.networks.find((x) => x.hosts.includes('sim-1'))!;
    const port = await createScalePort(clients, cloud, n, 'sim-1', n.groups[0]!, 'scale-new');
    const affected = block(0).map((h) => fleet!.get(h));
    await onEvery(affected, (k) => Object.values(k.peek().neighs).some((x) => x.mac === port.mac) || Object.values(k.peek().plugs).length === 5);
    await converged('after the port create');
    const after = entries();
    for (const h of block(1)) expect(after.get(h)! - before.get(h)!, `${h} is outside the port's block`).toBe(0);
    for (const h of block(0)) expect(after.get(h)! - before.get(h)!, `${h} is in the port's block`).toBeGreaterThan(0);
  });

  it('given a port moved to another group of its network in the second block, then only that block hears of it, and all converge', async () => {
    const before = entries();
    const n = cloud.networks.find((x) => x.hosts.includes('sim-11'))!;
    const port = [...cloud.ports.values()].find((p) => p.networkId === n.id && p.groupId === n.groups[0])!;
    await moveScalePort(clients, cloud, port, n.groups[1]!);
    await converged('after the membership change');
    const after = entries();
    for (const h of block(0)) expect(after.get(h)! - before.get(h)!, `${h} is outside the port's block`).toBe(0);
    expect(after.get(port.host)! - before.get(port.host)!).toBeGreaterThan(0);
  });

  it('given every simulated hypervisor reconnecting at once, then each watches its view again and still matches a fresh derivation', async () => {
    await Promise.all(hosts.map((h) => fleet!.get(h).reconnect()));
    for (const h of hosts) expect(fleet!.get(h).syncs).toBe(2);
    await converged('after the reconnect');
    for (const h of hosts) expect(fleet!.get(h).passes.failed).toBe(0);
  });
});
