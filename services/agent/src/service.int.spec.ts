/**
 * The agent service end to end: real nats-server with the production users
 * and a host-view KV bucket per host (created by the operator), two agents
 * (in-process, each as its own NATS user agent-<host>, managing one
 * hypervisor namespace of a NetLab through AGENT_NETNS), VMs pinging each
 * other. The test writes the views as hostview does (the keys, then the
 * view's position); reports come back on strata.status.<host> and
 * heartbeats on strata.status.<host>.heartbeat, observed as the operator
 * (admin), who also asks for a report on strata.agentctl.<host>.report.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import type { KV, NatsConnection } from 'nats';
import {
  AGENT_HEARTBEATS,
  AGENT_REPORTS,
  AgentHeartbeat,
  AgentReport,
  agentResyncSubject,
  HOSTVIEW_BUCKET_OPTIONS,
  hostviewBucket,
  hostviewKey,
  portDevice,
} from '@strata/contracts';
import { startProvisionedNats } from '@strata/lab';
import { startService, type RunningService } from '@strata/runtime';
import { waitFor, type StrataNats } from '@strata/testing';
import type { HostViewSnapshot } from './core/snapshot.js';
import { agentService, agentServiceName } from './service.js';
import { hostView, sgRule, subnet, type Cloud } from './testkit/cloud.js';
import { NetLab, sh, type LabVm } from './testkit/netlab.js';

const d = describeIf(kernel());

const router = randomUUID();
const netX = randomUUID();
const netY = randomUUID();
const x1 = { id: randomUUID(), networkId: netX, mac: '02:cc:00:00:00:11', host: 'hv1', fixedIps: [{ subnetId: 'sX', ip: '10.3.0.11' }] };
const y2 = { id: randomUUID(), networkId: netY, mac: '02:cc:00:00:01:12', host: 'hv2', fixedIps: [{ subnetId: 'sY', ip: '10.3.1.12' }] };
const z2 = { id: randomUUID(), networkId: netX, mac: '02:cc:00:00:00:12', host: 'hv2', fixedIps: [{ subnetId: 'sX', ip: '10.3.0.12' }] };

const cloud: Cloud = {
  hosts: { hv1: '198.18.0.11', hv2: '198.18.0.12' },
  networks: [
    { id: netX, tenant: 'T', vni: 300, domainId: router, subnets: [subnet('sX', '10.3.0.0/24', '10.3.0.1')] },
    { id: netY, tenant: 'T', vni: 301, domainId: router, subnets: [subnet('sY', '10.3.1.0/24', '10.3.1.1')] },
  ],
  domains: [{ id: router, tenant: 'T', kind: 'router' }],
  ports: [x1, y2],
};

let lab: NetLab;
let server: StrataNats;
/** hostview's connection: the test writes the host views as hostview does. */
let nc: NatsConnection;
const buckets = new Map<string, KV>();
const agents: RunningService[] = [];
/** Each host's latest report, and every report and heartbeat received. */
const statuses = new Map<string, AgentReport>();
const reports: AgentReport[] = [];
const heartbeats: AgentHeartbeat[] = [];
const written = new Map<string, Set<string>>();
/** The position each host's view was last given (the log position hostview would write: here a counter). */
const positions = new Map<string, number>();
let lastPosition = 100;
let admin: NatsConnection;

/** A port's state in a host's latest report. */
const portState = (hostId: string, portId: string): string | undefined => statuses.get(hostId)?.ports.find((p) => p.portId === portId)?.state;
/** The host's latest report says it applied the position its view was last given. */
const appliedLatest = (hostId: string): boolean => statuses.get(hostId)?.appliedPosition === positions.get(hostId);

/** Write only a new position to the host's view (hostview does so for a change whose keys another write already carried). */
async function publishPosition(hostId: string): Promise<number> {
  const seq = ++lastPosition;
  await buckets.get(hostId)!.put(hostviewKey.position(hostId), JSON.stringify({ seq }));
  positions.set(hostId, seq);
  return seq;
}

/** Make the host's bucket hold exactly `view` (as hostview would). */
async function publishView(hostId: string, view: HostViewSnapshot): Promise<void> {
  let kv = buckets.get(hostId);
  if (!kv) {
    kv = await nc.jetstream().views.kv(hostviewBucket(hostId), HOSTVIEW_BUCKET_OPTIONS);
    buckets.set(hostId, kv);
  }
  const entries = new Map<string, unknown>();
  if (view.host) entries.set(hostviewKey.host(hostId), view.host);
  for (const n of Object.values(view.networks)) entries.set(hostviewKey.net(hostId, n.id), n);
  for (const p of Object.values(view.ports)) entries.set(hostviewKey.port(hostId, p.id), p);
  for (const e of Object.values(view.endpoints)) entries.set(hostviewKey.ep(hostId, e.id), e);
  for (const r of Object.values(view.domains)) entries.set(hostviewKey.domain(hostId, r.id), r);
  for (const g of Object.values(view.groups)) entries.set(hostviewKey.sg(hostId, g.id), g);
  for (const m of Object.values(view.members)) entries.set(hostviewKey.member(hostId, m.groupId, m.portId), m);
  const before = written.get(hostId) ?? new Set();
  for (const [k, v] of entries) await kv.put(k, JSON.stringify(v));
  for (const k of before) if (!entries.has(k)) await kv.delete(k);
  written.set(hostId, new Set(entries.keys()));
  // As hostview: the position after every key it covers.
  await publishPosition(hostId);
}

const publishAll = async (c: Cloud): Promise<void> => {
  for (const h of Object.keys(c.hosts)) await publishView(h, hostView(c, h));
};

describe('agent service name', () => {
  it('is agent-<AGENT_HOST_ID>, so the runtime replies on the inbox the NATS user agent-<host> is allowed', () => {
    expect(agentServiceName({ AGENT_HOST_ID: 'hv1' })).toBe('agent-hv1');
    expect(agentServiceName({})).toBe('agent');
  });
});

d('agent service (NATS KV → kernel)', () => {
  const vms: Record<string, LabVm> = {};

  beforeAll(async () => {
    lab = await NetLab.create(2);
    server = await startProvisionedNats({ agents: lab.hosts.map((h) => h.name) });
    nc = await server.connect('hostview');
    admin = await server.connect('admin');
    admin.subscribe(AGENT_REPORTS, {
      callback: (_err, m) => {
        const s = AgentReport.parse(m.json());
        expect(m.subject).toBe(`strata.status.${s.hostId}`);
        reports.push(s);
        statuses.set(s.hostId, s);
      },
    });
    admin.subscribe(AGENT_HEARTBEATS, { callback: (_err, m) => void heartbeats.push(AgentHeartbeat.parse(m.json())) });
    await admin.flush();
    vms.x1 = await lab.addVm('x1', lab.host(1), x1.mac, portDevice(x1.id));
    vms.y2 = await lab.addVm('y2', lab.host(2), y2.mac, portDevice(y2.id));
    await lab.configure(vms.x1, '10.3.0.11/24', '10.3.0.1');
    await lab.configure(vms.y2, '10.3.1.12/24', '10.3.1.1');
    await publishAll(cloud);
    for (const h of lab.hosts) {
      agents.push(
        await startService(agentService, {
          ...server.env(`agent-${h.name}`),
          // In one process the definition's name cannot come from process.env: each agent is named for its host, as a real agent process is.
          STRATA_SERVICE_NAME: agentServiceName({ AGENT_HOST_ID: h.name }),
          STRATA_HTTP_PORT: '0',
          STRATA_LOG_LEVEL: 'silent',
          AGENT_HOST_ID: h.name,
          AGENT_NETNS: h.ns,
          AGENT_NETNS_PREFIX: h.nsPrefix,
          AGENT_STATE_DIR: h.stateDir,
          // Long: device appearance must be handled by the link monitor, not the timer.
          AGENT_RESYNC_SECONDS: '3600',
          AGENT_HEARTBEAT_MS: '200',
        }),
      );
    }
  });

  afterAll(async () => {
    for (const a of agents) await a.stop().catch(() => undefined);
    await server?.stop();
    await lab?.destroy();
  });

  it("programs both hosts from the KV view: routed ping across hosts; each report says the view's position is applied and its ports are up", async () => {
    await waitFor(() => appliedLatest('hv1') && appliedLatest('hv2'), { timeoutMs: 20_000, message: 'views applied' });
    expect(statuses.get('hv1')).toMatchObject({ error: null, ports: [{ portId: x1.id, state: 'up', reason: '' }], appliedPosition: positions.get('hv1') });
    expect(statuses.get('hv2')).toMatchObject({ error: null, ports: [{ portId: y2.id, state: 'up', reason: '' }], appliedPosition: positions.get('hv2') });
    expect(await lab.pingEventually(vms.x1!, '10.3.1.12')).toBe(63);
    const r = statuses.get('hv1')!;
    expect(r.generation).toBeGreaterThan(0);
    expect(r.version).toBe('0.1.0');
    expect(r.appliedAt).not.toBeNull();
    expect(statuses.get('hv2')!.bootId).not.toBe(r.bootId);
  });

  it('a position-only change is applied with no kernel work: the report moves to it, the generation stays', async () => {
    await waitFor(() => appliedLatest('hv1'), { timeoutMs: 20_000, message: 'hv1 applied' });
    const before = statuses.get('hv1')!;
    const seq = await publishPosition('hv1');
    await waitFor(() => statuses.get('hv1')?.appliedPosition === seq, { timeoutMs: 20_000, message: 'position applied' });
    expect(statuses.get('hv1')).toMatchObject({ generation: before.generation, ports: before.ports, error: null });
    expect(statuses.get('hv1')!.viewRevision).toBeGreaterThan(before.viewRevision);
  });

  it('heartbeats arrive every interval; a report is sent at once when asked for', async () => {
    const from = heartbeats.length;
    await waitFor(() => heartbeats.slice(from).filter((h) => h.hostId === 'hv1').length >= 2, { timeoutMs: 20_000, message: 'hv1 heartbeats' });
    const beat = heartbeats.slice(from).find((h) => h.hostId === 'hv1')!;
    expect(beat).toMatchObject({ bootId: statuses.get('hv1')!.bootId, version: '0.1.0', appliedPosition: statuses.get('hv1')!.appliedPosition, error: null });
    // Asked: a full report of the current state, nothing else changing.
    const n = reports.length;
    admin.publish(agentResyncSubject('hv2'));
    await waitFor(() => reports.slice(n).some((r) => r.hostId === 'hv2'), { timeoutMs: 20_000, message: 'report on request' });
    const answered = reports.slice(n).find((r) => r.hostId === 'hv2')!;
    expect(answered).toMatchObject({ appliedPosition: positions.get('hv2'), ports: [{ portId: y2.id, state: 'up' }], error: null });
    expect(reports.slice(n).filter((r) => r.hostId === 'hv1')).toEqual([]);
  });

  it('a port bound before its VM exists is down, up as soon as its device appears, down again when it goes', async () => {
    await publishAll({ ...cloud, ports: [x1, y2, z2] });
    await waitFor(() => appliedLatest('hv2') && portState('hv2', z2.id) === 'down', { timeoutMs: 20_000, message: 'z2 down' });
    expect(statuses.get('hv2')!.ports.find((p) => p.portId === z2.id)!.reason).toBe(`device ${portDevice(z2.id)} not present (not plugged)`);
    vms.z2 = await lab.addVm('z2', lab.host(2), z2.mac, portDevice(z2.id));
    await lab.configure(vms.z2, '10.3.0.12/24', '10.3.0.1');
    await waitFor(() => portState('hv2', z2.id) === 'up', { timeoutMs: 20_000, message: 'z2 up' });
    expect(await lab.pingEventually(vms.x1!, '10.3.0.12')).toBe(64);
    // The VM's NIC goes (the VM is shut down): the port is down again; back, up again.
    await sh(['ip', '-n', vms.z2.ns, 'link', 'del', 'eth0']);
    await waitFor(() => portState('hv2', z2.id) === 'down', { timeoutMs: 20_000, message: 'z2 down again' });
    await lab.attach(vms.z2, lab.host(2));
    await lab.configure(vms.z2, '10.3.0.12/24', '10.3.0.1');
    await waitFor(() => portState('hv2', z2.id) === 'up', { timeoutMs: 20_000, message: 'z2 up again' });
    expect(await lab.pingEventually(vms.x1!, '10.3.0.12')).toBe(64);
  });

  it('security groups from the KV view; rule counters become metrics after the next reconcile', async () => {
    const group = randomUUID();
    const echo = sgRule(randomUUID(), 'ingress', { protocol: 'icmp', icmpType: 8, remoteCidr: '10.3.0.0/24' });
    const withGroup = (rules: ReturnType<typeof sgRule>[]): Cloud => ({
      ...cloud,
      ports: [x1, { ...y2, groupIds: [group] }, z2],
      groups: [{ id: group, tenant: 'T', rules }],
    });
    const metric = async (host: number, rule: string): Promise<number | undefined> => {
      const text = await agents[host - 1]!.ctx.metrics.registry.metrics();
      const line = text.split('\n').find((l) => l.startsWith('strata_sg_rule_packets_total{') && l.includes(`group="${group}"`) && l.includes(`rule="${rule}"`));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    await publishAll(withGroup([]));
    // y2 is in a group without rules: default deny (wait for hv2 to have the port's chains).
    await waitFor(async () => (await sh(['ip', 'netns', 'exec', lab.host(2).ns, 'nft', 'list', 'table', 'inet', 'strata']).catch(() => '')).includes('port_'), { timeoutMs: 20_000, message: 'hv2 filters y2' });
    expect(await lab.ping(vms.x1!, '10.3.1.12')).toBeNull();
    await publishAll(withGroup([echo]));
    await waitFor(async () => (await metric(2, echo.id)) !== undefined, { timeoutMs: 20_000, message: 'rule counter exported' });
    expect(await lab.pingEventually(vms.x1!, '10.3.1.12')).toBe(63);
    // Another rule: a reconcile, after which the first rule's counter shows the ping.
    const other = sgRule(randomUUID(), 'ingress', { protocol: 'tcp', portMin: 22, portMax: 22 });
    await publishAll(withGroup([echo, other]));
    await waitFor(async () => (await metric(2, other.id)) !== undefined, { timeoutMs: 20_000, message: 'second rule exported' });
    expect(await metric(2, echo.id)).toBeGreaterThan(0);
    await publishAll({ ...cloud, ports: [x1, y2, z2] });
    await waitFor(async () => !(await sh(['ip', 'netns', 'exec', lab.host(2).ns, 'nft', 'list', 'tables'])).includes('inet strata'), { timeoutMs: 20_000, message: 'hv2 unfiltered' });
  });

  it('a host whose view empties is left with no Strata object', async () => {
    await publishView('hv1', { host: hostView(cloud, 'hv1').host!, networks: {}, ports: {}, endpoints: {}, domains: {}, groups: {}, members: {}, chains: {}, l2gateways: {} });
    await waitFor(
      async () => {
        const links = JSON.parse(await sh(['ip', '-n', lab.host(1).ns, '-j', 'link', 'show'])) as { ifname: string }[];
        const namespaces = (await sh(['ip', 'netns', 'list'])).split('\n').filter((l) => l.startsWith(lab.host(1).nsPrefix));
        return !links.some((l) => /^(sbr|svx|sgw)\d/.test(l.ifname)) && namespaces.length === 0;
      },
      { timeoutMs: 20_000, message: 'hv1 clean' },
    );
  });
});
