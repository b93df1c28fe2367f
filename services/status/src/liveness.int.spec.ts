/**
 * The liveness decision end to end over NATS with the production users: two
 * status instances hear agents that publish real reports and heartbeats as
 * their hypervisors' NATS users; an agent that stops is marked down once
 * (one event, whichever instance decides), and up again, restarted, when a
 * new process of it reports. A host whose agent never reports is marked
 * down after the timeout; a heartbeat naming another host in its body is
 * not taken for that host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection, Subscription } from 'nats';
import { agentHeartbeatSubject, REALISED_HYPERVISORS, type StatusChange } from '@strata/contracts';
import { JetStreamEventStore, type StoredEvent } from '@strata/eventlog';
import { startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { ADMIN, eventsOf, IpamClient, ReportingAgent, startIpam, startStatus, StatusClient, type Principal } from './test/support.js';

const TIMEOUT_MS = 1_500;
const HEARTBEAT_MS = 200;
const tenantA: Principal = { tenant: 'tenant-a', admin: false };
const tenantB: Principal = { tenant: 'tenant-b', admin: false };

describe('status service: agents\' liveness over NATS', () => {
  let nats: StrataNats;
  let ipam: ManagedProcess;
  const statuses: ManagedProcess[] = [];
  let ipamClient: IpamClient;
  let client: StatusClient;
  let store: JetStreamEventStore;
  const agents = new Map<string, NatsConnection>();
  const changes: StatusChange[] = [];
  let watch: Subscription;

  const livenessEvents = async (): Promise<StoredEvent[]> => eventsOf(store, 'strata.evt.status.>');
  const of = (events: StoredEvent[], host: string) => events.filter((e) => e.aggregate.id === host).map((e) => e.type);

  beforeAll(async () => {
    nats = await startProvisionedNats({ agents: ['hv1', 'hv2', 'hv3'] });
    ipam = startIpam(nats.env('ipam'));
    await ipam.ready;
    ipamClient = new IpamClient(await nats.connect('api'));
    client = new StatusClient(ipamClient.nc, 15_000, ipamClient.seq);
    const pool = await ipamClient.command('pool.create', { name: 'h', cidr: '198.51.100.0/24', purpose: 'host-ip' }, ADMIN);
    for (const [id, vtepIp] of [['hv1', '198.18.0.11'], ['hv2', '198.18.0.12'], ['hv3', '198.18.0.13']] as const) {
      await ipamClient.command('hypervisor.register', { id, vtepIp, hostPoolId: pool.id }, ADMIN);
    }
    for (const host of ['hv1', 'hv2', 'hv3']) agents.set(host, await nats.connect(`agent-${host}`));
    // The operator's look at what status publishes (no service user but status may publish there, see the hostile test).
    const admin = await nats.connect('admin');
    watch = admin.subscribe(REALISED_HYPERVISORS, { callback: (_e, m) => changes.push(m.json<StatusChange>()) });
    store = await JetStreamEventStore.open(admin);
    // Two instances: each hears every agent; the log settles which one writes a decision.
    const config = { STATUS_AGENT_TIMEOUT_MS: String(TIMEOUT_MS), STATUS_LIVENESS_TICK_MS: '50', STATUS_HOSTVIEW_TIMEOUT_MS: '300' };
    statuses.push(startStatus(nats.env('status'), config), startStatus(nats.env('status'), config, 'status-2'));
    await Promise.all(statuses.map((s) => s.ready));
  }, 60_000);

  afterAll(async () => {
    watch?.unsubscribe();
    for (const nc of agents.values()) await nc.close();
    await ipamClient?.close();
    for (const s of statuses) await s.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('marks a host whose agent stops down once, and up again (restarted) when a new agent process reports', async () => {
    const first = new ReportingAgent(agents.get('hv1')!, 'hv1');
    first.start(HEARTBEAT_MS);
    try {
      // hv3's agent never reports: down after the timeout. hv1, heard all along, is not.
      await waitFor(async () => of(await livenessEvents(), 'hv3').length === 1, { timeoutMs: 20_000, message: 'hv3 marked down' });
      expect(of(await livenessEvents(), 'hv1')).toEqual([]);
      const seen = await client.query('hypervisor.get', { id: 'hv1' }, ADMIN);
      expect(seen).toMatchObject({ hostId: 'hv1', registered: true, alive: true, bootId: first.bootId, version: '0.1.0-test', viewPosition: null });
      expect(seen.lastSeenAt).not.toBeNull();
    } finally {
      first.stop();
    }

    // Stopped: down within the timeout (plus the clock's tick), one event whichever instance decided.
    await waitFor(async () => of(await livenessEvents(), 'hv1').length >= 1, { timeoutMs: 20_000, message: 'hv1 marked down' });
    const down = (await livenessEvents()).filter((e) => e.aggregate.id === 'hv1');
    expect(down.map((e) => e.type)).toEqual(['status.HypervisorAgentDown']);
    expect(down[0]!.data).toMatchObject({ hostId: 'hv1', bootId: first.bootId, timeoutMs: TIMEOUT_MS });
    expect(down[0]!.tenant).toBe('_system');
    await waitFor(async () => (await client.query('hypervisor.get', { id: 'hv1' }, ADMIN)).alive === false, { message: 'hv1 reported not alive' });
    await waitFor(() => changes.some((c) => c.kind === 'hypervisor' && c.id === 'hv1' && !c.hypervisor.alive), { message: 'the change published' });

    // A new agent process: up again, restarted.
    const second = new ReportingAgent(agents.get('hv1')!, 'hv1');
    second.start(HEARTBEAT_MS);
    try {
      await waitFor(async () => of(await livenessEvents(), 'hv1').length === 2, { timeoutMs: 20_000, message: 'hv1 marked up' });
      const up = (await livenessEvents()).filter((e) => e.aggregate.id === 'hv1')[1]!;
      expect(up.type).toBe('status.HypervisorAgentUp');
      expect(up.data).toEqual({ hostId: 'hv1', bootId: second.bootId, version: '0.1.0-test', restarted: true });
      await waitFor(async () => (await client.query('hypervisor.get', { id: 'hv1' }, ADMIN)).alive === true, { message: 'hv1 reported alive' });
      await waitFor(() => changes.some((c) => c.kind === 'hypervisor' && c.id === 'hv1' && c.hypervisor.alive && c.hypervisor.bootId === second.bootId), {
        message: 'the change published',
      });
      // Still exactly one event per transition, though two instances decide.
      expect(of(await livenessEvents(), 'hv1')).toEqual(['status.HypervisorAgentDown', 'status.HypervisorAgentUp']);
    } finally {
      second.stop();
    }
  });

  it('takes the reporter from the subject: a heartbeat naming another host in its body is not taken for that host', async () => {
    // Neither hv2's nor hv3's agent has reported: both are down.
    await waitFor(async () => of(await livenessEvents(), 'hv2').length === 1 && of(await livenessEvents(), 'hv3').length === 1, { timeoutMs: 20_000, message: 'hv2, hv3 down' });
    // hv2's user publishes heartbeats claiming hv3 in the body, then its own: one subscription hears them in this order.
    const hv2 = new ReportingAgent(agents.get('hv2')!, 'hv2');
    const forged = { hostId: 'hv3', bootId: 'forged', version: 'x', startedAt: 'T', sentAt: 'T', generation: 1, appliedPosition: 1, error: null };
    for (let i = 0; i < 3; i++) agents.get('hv2')!.publish(agentHeartbeatSubject('hv2'), JSON.stringify(forged));
    const timer = setInterval(() => hv2.heartbeat(), HEARTBEAT_MS);
    try {
      await waitFor(async () => of(await livenessEvents(), 'hv2').length === 2, { timeoutMs: 20_000, message: 'hv2 up' });
      expect(of(await livenessEvents(), 'hv3')).toEqual(['status.HypervisorAgentDown']);
      const hv3 = await client.query('hypervisor.get', { id: 'hv3' }, ADMIN);
      expect(hv3).toMatchObject({ alive: false, bootId: null, lastSeenAt: null });
      expect((await client.query('hypervisor.get', { id: 'hv2' }, ADMIN)).bootId).toBe(hv2.bootId);
    } finally {
      clearInterval(timer);
    }
  });

  it('answers hypervisor queries to admins only, and a tenant\'s port query for another tenant\'s port NotFound before asking hostview', async () => {
    await expect(client.query('hypervisor.list', {}, tenantA)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(client.query('barrier', { position: 1 }, tenantA)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    const list = await client.query('hypervisor.list', {}, ADMIN);
    expect(list.items.map((h) => h.hostId)).toEqual(['hv1', 'hv2', 'hv3']);
    await expect(client.query('hypervisor.get', { id: 'hv9' }, ADMIN)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const net = await ipamClient.command('network.create', { name: 'n' }, tenantA);
    await ipamClient.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/24' }, tenantA);
    const port = await ipamClient.command('port.create', { networkId: net.id, hostId: 'hv1' }, tenantA);
    await expect(client.query('port.status', { ids: [port.id] }, tenantB)).rejects.toMatchObject({ code: 'NOT_FOUND', message: `port ${port.id} not found` });
    await expect(client.query('resource.realisation', { kind: 'network', id: net.id }, tenantB)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // No hostview runs here: the owner's answer is unavailable, never wrong.
    await expect(client.query('port.status', { ids: [port.id] }, tenantA)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
