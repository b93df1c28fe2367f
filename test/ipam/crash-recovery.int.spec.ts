/**
 * kill -9 of IPAM in the middle of 1,000 commands: after a restart its state
 * equals a full replay of the log, no acknowledged command is lost, and
 * re-sending the unanswered requests (same request ids) creates nothing twice.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import type { PortView } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { IpamClient, startIpam, type IpamProcess } from '../support/ipam.js';
import { replayDigest } from '../support/replay.js';

const tenant = { tenant: 'tenant-a', admin: false };

describe('IPAM killed with SIGKILL in the middle of 1,000 commands', () => {
  let nats: StrataNats;
  let ipam: IpamProcess;
  let client: IpamClient;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    // Snapshot often, so the restart exercises snapshot + tail replay, not only a full replay.
    ipam = startIpam(nats.url, { ...nats.env('ipam'), IPAM_SNAPSHOT_EVERY: '150' });
    await ipam.ready;
    client = new IpamClient(await nats.connect('api'), 3_000);
    nc = await nats.connect('api');
  });

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await ipam?.stop();
    await nats?.stop();
  });

  it('loses no acknowledged command and converges to the replayed state', async () => {
    const network = await client.command('network.create', { name: 'n' }, tenant);
    await client.command('subnet.create', { networkId: network.id, cidr: '10.30.0.0/20' }, tenant);

    const requests = Array.from({ length: 1000 }, (_, i) => ({ requestId: randomUUID(), name: `vm${i}` }));
    const acked = new Map<string, PortView>();
    let killed = false;
    const killAfter = 400;

    // 20 requests in flight at a time; the crash hits with requests outstanding.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const r = requests[next++]!;
        try {
          const port = await client.command('port.create', { networkId: network.id, name: r.name }, tenant, r.requestId);
          acked.set(r.requestId, port);
          if (!killed && acked.size >= killAfter) {
            killed = true;
            await ipam.kill9();
          }
        } catch {
          // unanswered (no responders / timed out while IPAM was dead): re-sent after the restart
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    expect(killed).toBe(true);
    const ackedBeforeRestart = new Map(acked);

    ipam = startIpam(nats.url, { ...nats.env('ipam'), IPAM_SNAPSHOT_EVERY: '150' });
    await ipam.ready;

    // Every acknowledged port survived, with the address it was acknowledged with.
    for (const [, port] of ackedBeforeRestart) {
      const now = await client.query('port.get', { id: port.id }, tenant);
      expect(now.fixedIps).toEqual(port.fixedIps);
    }

    // Re-send everything not acknowledged, with the same request ids: idempotent.
    for (const r of requests) {
      if (acked.has(r.requestId)) continue;
      const port = await client.command('port.create', { networkId: network.id, name: r.name }, tenant, r.requestId);
      acked.set(r.requestId, port);
    }
    const ports = await client.query('port.list', { networkId: network.id, limit: 10_000 }, tenant);
    expect(ports.items).toHaveLength(1000);
    expect(new Set(ports.items.map((p) => p.fixedIps[0]!.ip)).size).toBe(1000);

    // The restarted instance's state is exactly what a full replay of the log gives.
    const store = await JetStreamEventStore.open(nc);
    const live = await client.query('state.digest', {}, tenant);
    const replayed = await replayDigest(store);
    expect(live.seq).toBe(replayed.seq);
    expect(live.sha256).toBe(replayed.sha256);
  });
});
