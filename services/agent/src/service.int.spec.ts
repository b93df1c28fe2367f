/**
 * The agent service end to end: real nats-server with the production users
 * and a host-view KV bucket per host (created by the operator), two agents
 * (in-process, each as its own NATS user agent-<host>, managing one
 * hypervisor namespace of a NetLab through AGENT_NETNS), VMs pinging each
 * other. The test writes the views as hostview does; status comes back on
 * strata.status.<host>, observed as the operator (admin).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import type { KV, NatsConnection } from 'nats';
import { AgentStatus, HOSTVIEW_BUCKET_OPTIONS, hostviewBucket, hostviewKey, portDevice, statusSubject } from '@strata/contracts';
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
const statuses = new Map<string, AgentStatus>();
const written = new Map<string, Set<string>>();

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
    const sub = (await server.connect('admin')).subscribe('strata.status.>');
    void (async () => {
      for await (const m of sub) {
        const s = AgentStatus.parse(m.json());
        statuses.set(s.hostId, s);
      }
    })();
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
        }),
      );
    }
  });

  afterAll(async () => {
    for (const a of agents) await a.stop().catch(() => undefined);
    await server?.stop();
    await lab?.destroy();
  });

  it('programs both hosts from the KV view: routed ping across hosts, status reports ports up', async () => {
    await waitFor(() => statuses.get('hv1')?.portsUp.includes(x1.id) && statuses.get('hv2')?.portsUp.includes(y2.id), { timeoutMs: 20_000, message: 'status' });
    expect(await lab.pingEventually(vms.x1!, '10.3.1.12')).toBe(63);
    expect(statuses.get('hv1')).toMatchObject({ error: null, portsDown: [] });
    expect(statuses.get('hv1')!.generation).toBeGreaterThan(0);
  });

  it('a port bound before its VM exists is down, then plugged as soon as its device appears', async () => {
    await publishAll({ ...cloud, ports: [x1, y2, z2] });
    await waitFor(() => statuses.get('hv2')?.portsDown.includes(z2.id), { timeoutMs: 20_000, message: 'z2 down' });
    vms.z2 = await lab.addVm('z2', lab.host(2), z2.mac, portDevice(z2.id));
    await lab.configure(vms.z2, '10.3.0.12/24', '10.3.0.1');
    await waitFor(() => statuses.get('hv2')?.portsUp.includes(z2.id), { timeoutMs: 20_000, message: 'z2 up' });
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
    await publishView('hv1', { host: hostView(cloud, 'hv1').host!, networks: {}, ports: {}, endpoints: {}, domains: {}, groups: {}, members: {}, chains: {} });
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
