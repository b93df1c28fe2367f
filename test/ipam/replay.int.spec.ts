/** Replaying the log up to a past sequence or time rebuilds exactly the state IPAM had then. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { JetStreamEventStore } from '@strata/eventlog';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { IpamClient, startIpam, type IpamProcess } from '../support/ipam.js';
import { replayDigest, replayIpam } from '../support/replay.js';

const tenant = { tenant: 'tenant-a', admin: false };

describe('replay to a point in the past', () => {
  let nats: StrataNats;
  let ipam: IpamProcess;
  let client: IpamClient;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    await ipam.ready;
    client = new IpamClient(await nats.connect('api'));
    nc = await nats.connect('api');
  });

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await ipam?.stop();
    await nats?.stop();
  });

  it('reproduces the state at a sequence and at a time', async () => {
    const network = await client.command('network.create', { name: 'n' }, tenant);
    await client.command('subnet.create', { networkId: network.id, cidr: '10.0.0.0/24' }, tenant);
    const kept = await client.command('port.create', { networkId: network.id, name: 'kept' }, tenant);
    const doomed = await client.command('port.create', { networkId: network.id, name: 'doomed' }, tenant);
    const then = await client.query('state.digest', {}, tenant);
    const thenTime = new Date();

    // History moves on: a port deleted, others created, a new subnet.
    await client.command('port.delete', { id: doomed.id }, tenant);
    await client.command('subnet.create', { networkId: network.id, cidr: '10.0.1.0/24' }, tenant);
    for (let i = 0; i < 5; i++) await client.command('port.create', { networkId: network.id }, tenant);
    const now = await client.query('state.digest', {}, tenant);
    expect(now.sha256).not.toBe(then.sha256);

    const store = await JetStreamEventStore.open(nc);
    expect(await replayDigest(store, { toSeq: then.seq })).toEqual(then);
    expect(await replayDigest(store, { toTime: thenTime })).toEqual(then);
    expect(await replayDigest(store)).toEqual(now);

    const past = await replayIpam(store, { toSeq: then.seq });
    expect(Object.keys(past.networks[network.id]!.ports).sort()).toEqual([kept.id, doomed.id].sort());
  });
});
