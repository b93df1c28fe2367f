/**
 * The control plane on a three-node NATS cluster with three replicas of
 * every stream and bucket (startControlPlane's natsCluster): the real
 * services and API serve commands while the event log's leader node is
 * lost, killed with SIGKILL and then, once it is back, stopped gracefully
 * (SIGTERM). Every acknowledged command is in the log exactly
 * once (a client retries an unanswered one with the same request id, as the
 * CLI's --request-id allows), commands continue after a short pause, and
 * the node rejoins and catches up (it holds every message again).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { DEFAULT_EVENT_LOG_OPTIONS } from '@strata/eventlog';
import { startControlPlane, type ControlPlane } from '@strata/lab';
import { freePort, waitFor, type NatsCluster } from '@strata/testing';
import { strataCli, type StrataCli } from '../support/api.js';

const STREAM = DEFAULT_EVENT_LOG_OPTIONS.streamName;
const COMMANDS = 120;
const WORKERS = 4;

interface StreamOnNode {
  name: string;
  state: { messages: number; last_seq: number };
}

/** The streams one node holds a replica of, as that node itself reports them (its monitoring endpoint). */
async function streamsOn(monitorPort: number): Promise<StreamOnNode[]> {
  const res = await fetch(`http://127.0.0.1:${monitorPort}/jsz?accounts=true&streams=true`);
  const jsz = (await res.json()) as { account_details?: Array<{ stream_detail?: StreamOnNode[] }> };
  return (jsz.account_details ?? []).flatMap((a) => a.stream_detail ?? []);
}

describe('the control plane on a three-node NATS cluster (R3)', () => {
  let dir: string;
  let cp: ControlPlane;
  let cluster: NatsCluster;
  let cli: StrataCli;
  let admin: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-cluster-'));
    cp = await startControlPlane(dir, ['tenant-a'], () => undefined, {
      natsCluster: 3,
      natsReplicas: 3,
      apiAddr: `127.0.0.1:${await freePort()}`,
    });
    cluster = cp.cluster!;
    cli = strataCli(cp.apiAddr);
    admin = await connect({ servers: cp.natsUrl.split(','), user: 'admin', pass: cp.passwords['admin']!, name: 'test-admin' });
    jsm = await admin.jetstreamManager();
  });
  afterAll(async () => {
    await admin?.close();
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps three replicas of the event log and of every bucket, on three different servers', async () => {
    const names: string[] = [];
    for await (const s of jsm.streams.list()) {
      names.push(s.config.name);
      expect(s.config.num_replicas, s.config.name).toBe(3);
      const peers = [s.cluster?.leader, ...(s.cluster?.replicas ?? []).map((r) => r.name)];
      expect(peers.sort(), s.config.name).toEqual(['n1', 'n2', 'n3']);
    }
    expect(names).toContain(STREAM);
    expect(names).toContain('OBJ_strata-snapshots-ipam');
  });

  // The node is lost two ways: killed (a crash) and stopped (SIGTERM, as `docker stop` and systemd do). One scenario
  // each, on the same cluster one after the other; names differ per scenario.
  const losses: Array<{ how: string; lose: (i: number) => Promise<void> }> = [
    { how: 'a kill -9', lose: (i) => cluster.killNode(i) },
    { how: 'a graceful stop (SIGTERM)', lose: (i) => cluster.stopNode(i) },
  ];
  it.each(losses)('serves commands through $how of the event log leader: every acknowledged command once, a short pause, the node catches up', async ({ how, lose }) => {
    const prefix = how.startsWith('a kill') ? 'k' : 's';
    const token = cp.tokens['tenant-a']!;
    const acked = new Map<string, { id: string; at: number }>(); // name -> network id, acknowledged at
    const failures = new Map<string, number>(); // error text (code) -> count
    let killedAt: number | undefined;
    let killing: Promise<void> | undefined;
    let victim = -1;
    let victimName = '';

    const kill = async (): Promise<void> => {
      const leader = (await jsm.streams.info(STREAM)).cluster!.leader!;
      victimName = leader;
      victim = cluster.indexOf(leader);
      killedAt = Date.now();
      await lose(victim);
    };

    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < COMMANDS) {
        const i = next++;
        const name = `${prefix}${i}`;
        const requestId = randomUUID();
        // A client retries an unanswered command with the same request id until it is answered.
        for (let attempt = 0; ; attempt++) {
          const r = await cli.cli(token, ['--request-id', requestId, 'network', 'create', '--name', name, '-o', 'json']);
          if (r.code === 0) {
            acked.set(name, { id: (JSON.parse(r.out) as { id: string }).id, at: Date.now() });
            break;
          }
          const why = r.err.trim().split('\n')[0]!.slice(0, 80);
          failures.set(why, (failures.get(why) ?? 0) + 1);
          if (attempt > 100) throw new Error(`${name}: still failing after ${attempt} attempts: ${r.err}`);
          await new Promise((res) => setTimeout(res, 200));
        }
        // One worker kills (the others carry on sending meanwhile).
        if (killing === undefined && acked.size >= 30) await (killing = kill());
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    expect(killedAt).toBeDefined();
    expect(acked.size).toBe(COMMANDS);

    // The pause: the longest time without an acknowledgement from the kill on (commands in flight at the
    // kill may still be acknowledged by the old leader's quorum, so not the time to the first ack).
    const after = [...acked.values()].map((a) => a.at).filter((t) => t > killedAt!).sort((a, b) => a - b);
    const pauseMs = Math.max(...[killedAt!, ...after].slice(1).map((t, i) => t - [killedAt!, ...after][i]!));
    const acksAfterKill = after.length;
    console.log(`cluster failover, ${how}: lost ${victimName} (the ${STREAM} leader); longest time without an ack after the loss ${pauseMs} ms; ${acksAfterKill} of ${COMMANDS} acks after it; failed attempts: ${JSON.stringify(Object.fromEntries(failures))}`);
    expect(acksAfterKill).toBeGreaterThan(0);

    // Every acknowledged command is in the log exactly once (the event log as the API serves it).
    // NetworkCreated is an event of the tenant's cloud aggregate, naming the network by networkId.
    const listed = await cli.json<{ events: Array<{ seq: string; dataJson: string }> }>(cp.tokens['admin']!, [
      'events', 'list', '--type', 'ipam.NetworkCreated', '--limit', '1000',
    ]);
    const mine = listed.events.filter((e) => new RegExp(`^${prefix}\\d+$`).test((JSON.parse(e.dataJson) as { name: string }).name));
    const byName = new Map<string, string[]>();
    for (const e of mine) {
      const { name, networkId } = JSON.parse(e.dataJson) as { name: string; networkId: string };
      byName.set(name, [...(byName.get(name) ?? []), networkId]);
    }
    for (const [name, { id }] of acked) expect(byName.get(name), name).toEqual([id]);
    expect(byName.size).toBe(COMMANDS);

    // Commands go on; the node rejoins (startNode waits for its /healthz: JetStream current) and holds every message.
    await cluster.startNode(victim);
    const info = await waitFor(() => jsm.streams.info(STREAM), { timeoutMs: 30_000, intervalMs: 200, message: 'stream info' });
    const last = info.state.last_seq;
    await waitFor(async () => {
      const mine = (await streamsOn(cluster.nodes[victim]!.monitorPort)).find((s) => s.name === STREAM);
      return mine !== undefined && mine.state.last_seq >= last;
    }, { timeoutMs: 30_000, intervalMs: 100, message: `${victimName} to hold the log up to ${last}` });
    const peers = [info.cluster!.leader!, ...(info.cluster!.replicas ?? []).map((r) => r.name)].sort();
    expect(peers).toEqual(['n1', 'n2', 'n3']);
    for (const r of info.cluster!.replicas ?? []) expect(r.current, r.name).toBe(true);
    // After the rejoin a command is answered at once: every reader of the log is current again.
    const r = await cli.cli(token, ['network', 'create', '--name', `${prefix}-after-rejoin`, '-o', 'json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });
});
