/**
 * The audit service over NATS with the production users: a real IPAM writes
 * tenants' and the operator's resources, the audit process catalogues the
 * log and answers where each resource lives, scoped like every query, with
 * the question's points resolved against the real JetStream log (positions
 * and times, the by-time lookup included); bad points and a tenant asking
 * for a host are refused with clear errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore, type StoredEvent } from '@strata/eventlog';
import { startProvisionedNats, type ManagedProcess } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { ADMIN, AuditClient, IpamClient, startAudit, startIpam, type Principal } from './test/support.js';

const tenantA: Principal = { tenant: 'tenant-a', admin: false };
const tenantB: Principal = { tenant: 'tenant-b', admin: false };

describe('audit service: locate and points over NATS', () => {
  let nats: StrataNats;
  let ipam: ManagedProcess;
  let audit: ManagedProcess;
  let ipamClient: IpamClient;
  let client: AuditClient;
  let events: StoredEvent[];
  let networkId: string;
  let portId: string;
  let otherNetworkId: string;

  beforeAll(async () => {
    nats = await startProvisionedNats({ agents: ['hv1'] });
    ipam = startIpam(nats.env('ipam'));
    await ipam.ready;
    ipamClient = new IpamClient(await nats.connect('api'));
    client = new AuditClient(ipamClient.nc, 15_000, ipamClient.seq);
    const pool = await ipamClient.command('pool.create', { name: 'h', cidr: '198.51.100.0/24', purpose: 'host-ip' }, ADMIN);
    await ipamClient.command('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.11', hostPoolId: pool.id }, ADMIN);
    networkId = (await ipamClient.command('network.create', { name: 'a' }, tenantA)).id;
    await ipamClient.command('subnet.create', { networkId, cidr: '10.1.0.0/24' }, tenantA);
    portId = (await ipamClient.command('port.create', { networkId }, tenantA)).id;
    otherNetworkId = (await ipamClient.command('network.create', { name: 'b' }, tenantB)).id;
    // Started after the writes: it catalogues the log it finds, then follows it.
    audit = startAudit(nats.env('audit'));
    await audit.ready;
    events = [];
    for await (const e of (await JetStreamEventStore.open(await nats.connect('admin'))).read()) events.push(e);
  }, 60_000);

  afterAll(async () => {
    await audit?.stop();
    await ipam?.stop();
    await ipamClient?.close();
    await nats?.stop();
  });

  const last = () => events[events.length - 1]!;

  it('locates a tenant\'s resource for its owner: its context, aggregate and tenant, and the points resolved', async () => {
    const port = events.find((e) => e.type === 'ipam.PortCreated')!;
    const loc = await client.query('resource.locate', { kind: 'port', id: portId, points: [{ position: port.seq }, { time: port.storedAt }] }, tenantA);
    expect(loc).toMatchObject({ kind: 'port', id: portId, context: 'ipam', aggregateId: networkId, tenant: 'tenant-a' });
    expect(loc.points[0]).toEqual({ seq: port.seq, storedAt: port.storedAt, requested: `position ${port.seq}` });
    // The last event stored at or before the port's own time (a later one in the same millisecond would be it).
    const sameMs = events.filter((e) => e.storedAt === port.storedAt).at(-1)!;
    expect(loc.points[1]).toEqual({ seq: sameMs.seq, storedAt: port.storedAt, requested: `time ${port.storedAt}` });
    expect(loc.lastSeq).toEqual({ seq: last().seq, storedAt: last().storedAt, requested: 'now' });
    expect((await client.query('resource.locate', { kind: 'network', id: networkId, points: [] }, tenantA)).aggregateId).toBe(networkId);
  });

  it('locates anything for an admin, operator resources included', async () => {
    expect((await client.query('resource.locate', { kind: 'network', id: otherNetworkId, points: [] }, ADMIN)).tenant).toBe('tenant-b');
    expect(await client.query('resource.locate', { kind: 'hypervisor', id: 'hv1', points: [] }, ADMIN)).toMatchObject({ context: 'ipam', aggregateId: 'default', tenant: '_system' });
  });

  it('answers another tenant\'s resource, an operator resource and a missing one with the same NOT_FOUND', async () => {
    const cases: Array<[string, Parameters<AuditClient['query']>[1]]> = [
      [`network ${otherNetworkId} not found`, { kind: 'network', id: otherNetworkId, points: [] }],
      [`port ${portId} not found`, { kind: 'port', id: portId, points: [] }],
      ['hypervisor hv1 not found', { kind: 'hypervisor', id: 'hv1', points: [] }],
      ['network no-such-network not found', { kind: 'network', id: 'no-such-network', points: [] }],
    ];
    const who = [tenantA, tenantB, tenantA, tenantA];
    for (const [i, [message, body]] of cases.entries()) {
      await expect(client.query('resource.locate', body as never, who[i])).rejects.toMatchObject({ code: 'NOT_FOUND', message });
    }
  });

  it('refuses bad points with what is wrong: before the log, past its end, both or neither', async () => {
    const first = events[0]!;
    const before = new Date(Date.parse(first.storedAt) - 1).toISOString();
    await expect(client.query('resource.locate', { kind: 'network', id: networkId, points: [{ time: before }] }, tenantA)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: `points[0]: time ${before} is before the log began (it began at ${first.storedAt} (position 1))`,
    });
    const end = await client.query('resource.locate', { kind: 'network', id: networkId, points: [] }, tenantA);
    await expect(client.query('resource.locate', { kind: 'network', id: networkId, points: [{ position: 1 }, { position: end.lastSeq.seq + 1 }] }, tenantA)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: `points[1]: position ${end.lastSeq.seq + 1} is past the end of the log (its last position is ${end.lastSeq.seq})`,
    });
    await expect(client.query('resource.locate', { kind: 'network', id: networkId, points: [{ position: 1, time: first.storedAt }] }, tenantA)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('give exactly one of a position or a time'),
    });
    await expect(client.query('resource.locate', { kind: 'network', id: networkId, points: [{}] }, tenantA)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('give exactly one of a position or a time'),
    });
    // A time after the last event is the last event.
    const later = await client.query('resource.locate', { kind: 'network', id: networkId, points: [{ time: '2099-01-01T00:00:00Z' }] }, tenantA);
    expect(later.points[0]!.seq).toBe(later.lastSeq.seq);
  });

  it('follows the log: a resource created after the start is located (read-your-writes)', async () => {
    const id = (await ipamClient.command('network.create', { name: 'late' }, tenantB)).id;
    const loc = await client.query('resource.locate', { kind: 'network', id, points: [] }, tenantB);
    expect(loc.tenant).toBe('tenant-b');
    expect(loc.lastSeq.seq).toBeGreaterThanOrEqual(ipamClient.lastSeq);
  });

  it('keeps hosts for admins: a tenant is refused, an unknown host is NOT_FOUND, no hostview is UNAVAILABLE (never a guess)', async () => {
    await expect(client.query('host.show', { hostId: 'hv1', at: { position: 1 } }, tenantA)).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: "a hypervisor's rules, routes and neighbours at a point needs an admin token; tenant-a-user is a tenant token for tenant-a",
    });
    await expect(client.query('host.diff', { hostId: 'hv9', from: { position: 1 } }, tenantA)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(client.query('host.show', { hostId: 'hv9', at: { position: 1 } }, ADMIN)).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'hypervisor hv9 not found' });
    await expect(client.query('host.diff', { hostId: 'hv1', from: { position: 3 }, to: { position: 2 } }, ADMIN)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'from (position 3, position 3) is after to (position 2, position 2)',
    });
    // No hostview runs here: nobody answers the host's past view.
    await expect(client.query('host.show', { hostId: 'hv1', at: { position: 1 } }, ADMIN)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
