/**
 * A hypervisor at a point and between two, end to end with the production
 * users: a real IPAM writes, a real hostview computes the host's view live
 * (into the host's bucket) and answers the audit service's
 * strata.qry.hostview.at from its own replay; the audit service renders
 * with the agent's renderHostLines. The oracle for "now" is independent of
 * the audit path: the live bucket hostview wrote, rendered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHostLines } from '@strata/agent';
import { hostviewBucket, portDevice } from '@strata/contracts';
import { JetStreamEventStore, type StoredEvent } from '@strata/eventlog';
import { startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import type { NatsConnection } from 'nats';
import { ADMIN, AuditClient, IpamClient, startAudit, startHostview, startIpam, type Principal } from './test/support.js';

const tenantA: Principal = { tenant: 'tenant-a', admin: false };

describe('audit service: a host at a point and between two', () => {
  let nats: StrataNats;
  const processes: ManagedProcess[] = [];
  let ipamClient: IpamClient;
  let client: AuditClient;
  let admin: NatsConnection;
  let store: JetStreamEventStore;
  let beforePort: number;
  let portId: string;

  /** What hostview has written for hv1 now (its live bucket), as the agent reads it. */
  const liveKeys = async (): Promise<Record<string, string>> => {
    const kv = await admin.jetstream().views.kv(hostviewBucket('hv1'), { bindOnly: true });
    const out: Record<string, string> = {};
    for await (const key of await kv.keys()) {
      const e = await kv.get(key);
      if (e && e.operation === 'PUT') out[key] = e.string();
    }
    return out;
  };
  const events = async (): Promise<StoredEvent[]> => {
    const out: StoredEvent[] = [];
    for await (const e of store.read()) out.push(e);
    return out;
  };

  beforeAll(async () => {
    nats = await startProvisionedNats({ agents: ['hv1'] });
    admin = await nats.connect('admin');
    store = await JetStreamEventStore.open(admin);
    processes.push(startIpam(nats.env('ipam')), startHostview(nats.env('hostview')), startAudit(nats.env('audit')));
    await Promise.all(processes.map((p) => p.ready));
    ipamClient = new IpamClient(await nats.connect('api'));
    client = new AuditClient(ipamClient.nc, 15_000, ipamClient.seq);
    const pool = await ipamClient.command('pool.create', { name: 'h', cidr: '198.51.100.0/24', purpose: 'host-ip' }, ADMIN);
    await ipamClient.command('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.11', hostPoolId: pool.id }, ADMIN);
    const networkId = (await ipamClient.command('network.create', { name: 'a' }, tenantA)).id;
    await ipamClient.command('subnet.create', { networkId, cidr: '10.1.0.0/24' }, tenantA);
    beforePort = ipamClient.lastSeq;
    portId = (await ipamClient.command('port.create', { networkId, hostId: 'hv1' }, tenantA)).id;
  }, 60_000);

  afterAll(async () => {
    for (const p of processes.reverse()) await p.stop();
    await ipamClient?.close();
    await admin?.close();
    await nats?.stop();
  });

  it('renders the host now exactly as its live view renders', async () => {
    const last = (await events()).at(-1)!;
    // hostview's live bucket catches up asynchronously: compare once it shows the port's device.
    const live = await waitFor(async () => {
      const lines = renderHostLines('hv1', await liveKeys());
      return lines.some((l) => l.text.includes(portDevice(portId))) ? lines : undefined;
    }, { timeoutMs: 90_000, message: "hostview's live view of hv1 with the port" });
    const now = await client.query('host.show', { hostId: 'hv1', at: { time: '2099-01-01T00:00:00Z' } }, ADMIN);
    expect(now.at).toEqual({ seq: last.seq, storedAt: last.storedAt, requested: 'time 2099-01-01T00:00:00Z' });
    expect(now.lines.length).toBeGreaterThan(0);
    expect(now.lines).toEqual(live);
  });

  it('diffs two points: each line change names the event that made it, and the endpoints agree with show', async () => {
    const all = await events();
    const portCreated = all.find((e) => e.type === 'ipam.PortCreated')!;
    const before = await client.query('host.show', { hostId: 'hv1', at: { position: beforePort } }, ADMIN);
    const after = await client.query('host.show', { hostId: 'hv1', at: { position: all.at(-1)!.seq } }, ADMIN);
    const diff = await client.query('host.diff', { hostId: 'hv1', from: { position: beforePort } }, ADMIN);
    expect(diff.perEvent).toBe(true);
    expect(diff.to.seq).toBe(all.at(-1)!.seq);
    expect(diff.events.map((e) => e.event.seq)).toContain(portCreated.seq);
    expect(diff.changes.length).toBeGreaterThan(0);
    for (const c of diff.changes) expect(diff.events.map((e) => e.event.seq)).toContain(c.event!.seq);
    // Applying the changes to the lines at `from` gives the lines at `to`.
    const key = (l: { kind: string; where: string; text: string }) => `${l.kind}|${l.where}|${l.text}`;
    const lines = new Set(before.lines.map(key));
    for (const c of diff.changes) {
      if (c.change === 'added') lines.add(key(c.line));
      else lines.delete(key(c.line));
    }
    expect([...lines].sort()).toEqual(after.lines.map(key).sort());
    // The port's event is named by who made it.
    expect(diff.changes.find((c) => c.event?.seq === portCreated.seq)?.event).toMatchObject({ actor: 'tenant-a-user', type: 'ipam.PortCreated' });
  });

  it('answers a point with the same lines however it is asked (position or time)', async () => {
    const all = await events();
    const e = all.find((x) => x.type === 'ipam.SubnetCreated')!;
    const byPosition = await client.query('host.show', { hostId: 'hv1', at: { position: e.seq } }, ADMIN);
    const byTime = await client.query('host.show', { hostId: 'hv1', at: { time: e.storedAt } }, ADMIN);
    const sameMs = all.filter((x) => x.storedAt === e.storedAt).at(-1)!;
    expect(byTime.at.seq).toBe(sameMs.seq);
    if (sameMs.seq === e.seq) expect(byTime.lines).toEqual(byPosition.lines);
  });
});
