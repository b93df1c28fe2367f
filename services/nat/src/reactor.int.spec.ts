/**
 * nat's reactor with two instances: IPAM deleting a port, releasing a
 * floating IP or deleting a router ends the association / the gateway
 * exactly once (one event in the log however many instances pulled it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { JetStreamEventStore, type StoredEvent } from '@strata/eventlog';
import type { ManagedProcess } from '@strata/lab';
import { startProvisionedNats } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { ADMIN, eventsOf, IpamClient, NatClient, startIpam, startNat } from './test/support.js';

const tenantA = { tenant: 'tenant-a', admin: false };

describe('the nat reactor with two instances', () => {
  let nats: StrataNats;
  let ipam: ManagedProcess;
  const instances: ManagedProcess[] = [];
  let ipamClient: IpamClient;
  let client: NatClient;
  let nc: NatsConnection;
  let store: JetStreamEventStore;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    await ipam.ready;
    instances.push(startNat(nats.url, nats.env('nat'), 'nat-1'), startNat(nats.url, nats.env('nat'), 'nat-2'));
    await Promise.all(instances.map((p) => p.ready));
    ipamClient = new IpamClient(await nats.connect('api'));
    client = new NatClient(ipamClient.nc, 15_000, ipamClient.seq);
    nc = await nats.connect('api');
    store = await JetStreamEventStore.open(nc);
  });

  afterAll(async () => {
    await ipamClient?.close();
    await nc?.close();
    await Promise.all(instances.map((p) => p.stop()));
    await ipam?.stop();
    await nats?.stop();
  });

  /** The aggregate's events once its last one is of `type` (bounded wait). */
  const settled = (subject: string, type: string): Promise<StoredEvent[]> =>
    waitFor(
      async () => {
        const es = await eventsOf(store, subject);
        return es.at(-1)?.type === type ? es : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, message: `${type} on ${subject}` },
    ) as Promise<StoredEvent[]>;

  it('ends associations of deleted ports and released addresses, and the gateway of a deleted router, once each', async () => {
    const pool = await ipamClient.command('pool.create', { name: 'fip', cidr: '203.0.113.0/24', purpose: 'floating-ip' }, ADMIN);
    const network = await ipamClient.command('network.create', { name: 'n' }, tenantA);
    await ipamClient.command('subnet.create', { networkId: network.id, cidr: '10.1.0.0/24' }, tenantA);
    const n = 12;
    const ports = await Promise.all(Array.from({ length: n }, () => ipamClient.command('port.create', { networkId: network.id }, tenantA)));
    const fips = await Promise.all(Array.from({ length: n }, () => ipamClient.command('floatingip.create', { poolId: pool.id }, tenantA)));
    for (let i = 0; i < n; i++) await client.command('floatingip.associate', { floatingIpId: fips[i]!.id, portId: ports[i]!.id }, tenantA);
    const router = await ipamClient.command('router.create', { name: 'r' }, tenantA);
    await client.command('router.setGateway', { routerId: router.id, enabled: true }, tenantA);

    // Half the ports deleted, the other half's addresses released, in parallel so both instances pull work.
    const half = n / 2;
    await Promise.all([
      ...ports.slice(0, half).map((p) => ipamClient.command('port.delete', { id: p.id }, tenantA)),
      ...fips.slice(half).map((f) => ipamClient.command('floatingip.delete', { id: f.id }, tenantA)),
      ipamClient.command('router.delete', { id: router.id }, tenantA),
    ]);

    for (let i = 0; i < n; i++) {
      const events = await settled(`strata.evt.nat.floatingip.${fips[i]!.id}`, 'nat.FloatingIpDisassociated');
      expect(events.map((e) => e.type)).toEqual(['nat.FloatingIpAssociated', 'nat.FloatingIpDisassociated']);
      expect(events[1]!.data).toMatchObject({ portId: ports[i]!.id, reason: i < half ? 'port-deleted' : 'floating-ip-released' });
      expect(events[1]!.causationId).not.toBeNull();
    }
    const gateway = await settled(`strata.evt.nat.router.${router.id}`, 'nat.ExternalGatewayDisabled');
    expect(gateway.map((e) => e.type)).toEqual(['nat.ExternalGatewayEnabled', 'nat.ExternalGatewayDisabled']);

    // A kept address is free again and can go to another port.
    const next = await ipamClient.command('port.create', { networkId: network.id }, tenantA);
    expect(await client.command('floatingip.associate', { floatingIpId: fips[0]!.id, portId: next.id }, tenantA)).toMatchObject({ portId: next.id });
  });

  it('the two instances agree on the state', async () => {
    const seq = await store.lastSeq();
    ipamClient.seq.observe(seq);
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.query('state.digest', {}, ADMIN)));
    expect(new Set(answers.map((a) => a.seq))).toEqual(new Set([seq]));
    expect(new Set(answers.map((a) => a.sha256)).size).toBe(1);
  });
});
