/**
 * Several IPAM instances share one log: no address is handed out twice, and
 * exhaustion is a clear RESOURCE_EXHAUSTED, however the requests interleave.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StrataError } from '@strata/errors';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { IpamClient, startIpam, type IpamProcess } from '../support/ipam.js';

const tenant = { tenant: 'tenant-a', admin: false };

describe('three IPAM instances, 1,500 concurrent port creations in one /22', () => {
  let nats: StrataNats;
  const instances: IpamProcess[] = [];
  const clients: IpamClient[] = [];

  beforeAll(async () => {
    nats = await startProvisionedNats();
    // The first instance creates the stream; the others join a running log.
    instances.push(startIpam(nats.url, nats.env('ipam')));
    await instances[0]!.ready;
    instances.push(startIpam(nats.url, nats.env('ipam')), startIpam(nats.url, nats.env('ipam')));
    await Promise.all(instances.map((i) => i.ready));
    for (let i = 0; i < 3; i++) clients.push(new IpamClient(await nats.connect('api'), 60_000));
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(instances.map((i) => i.stop()));
    await nats?.stop();
  });

  it('hands out every address at most once and answers the rest RESOURCE_EXHAUSTED', async () => {
    const [c0] = clients;
    const network = await c0!.command('network.create', { name: 'big' }, tenant);
    const subnet = await c0!.command('subnet.create', { networkId: network.id, cidr: '10.20.0.0/22' }, tenant);

    const outcomes = await Promise.allSettled(
      Array.from({ length: 1500 }, (_, i) => clients[i % 3]!.command('port.create', { networkId: network.id, name: `p${i}` }, tenant)),
    );

    const ok = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const failed = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as StrataError] : []));
    // A /22 has 1024 addresses: minus network, broadcast and gateway, 1021 are assignable.
    expect(ok).toHaveLength(1021);
    expect(failed).toHaveLength(479);
    for (const e of failed) {
      expect(e).toBeInstanceOf(StrataError);
      expect(e.code).toBe('RESOURCE_EXHAUSTED');
      expect(e.message).toBe(`subnet ${subnet.id} (10.20.0.0/22) has no free address left in its allocation pools (1021 addresses)`);
    }
    const ips = ok.map((p) => p.fixedIps[0]!.ip);
    expect(new Set(ips).size).toBe(1021);
    expect(ips).not.toContain('10.20.0.1');
    expect(new Set(ok.map((p) => p.mac)).size).toBe(1021);

    // Every instance's view agrees with what was acknowledged.
    const listed = await c0!.query('port.list', { networkId: network.id, limit: 10_000 }, tenant);
    expect(listed.items.map((p) => p.id).sort()).toEqual(ok.map((p) => p.id).sort());
  });
});
