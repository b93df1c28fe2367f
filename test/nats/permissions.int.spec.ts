/**
 * The NATS security baseline: the accounts config rendered by
 * infra/nats/render-accounts.mjs (with agents hv1 and hv2), each service
 * connecting as its own user and able to use only its own subjects. IPAM,
 * the api and hostview run with their real users here: IPAM serves a
 * command end to end, hostview writes the per-host buckets, and an agent
 * can read its own host's view and nothing else.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itIf, kernel } from '@strata/testing/suites';
import { AckPolicy, connect, headers, type KV, type KvEntry, type NatsConnection, type QueuedIterator } from 'nats';
import { AgentReport, agentReportSubject, hostviewBucket, hostviewKey, hostviewStream } from '@strata/contracts';
import { Netns, startProcess, type ManagedProcess } from '@strata/lab';
import { startNatsServer, waitFor, type NatsServerHandle } from '@strata/testing';
import { ADMIN, IpamClient, startIpam, type IpamProcess } from '../support/ipam.js';
import { NatClient, provisionStreams } from '@strata/lab';

const RENDER = fileURLToPath(new URL('../../infra/nats/render-accounts.mjs', import.meta.url));
const HOSTVIEW_MAIN = fileURLToPath(new URL('../../services/hostview/dist/main.js', import.meta.url));
const NAT_MAIN = fileURLToPath(new URL('../../services/nat/dist/main.js', import.meta.url));
const AGENT_MAIN = fileURLToPath(new URL('../../services/agent/dist/main.js', import.meta.url));
// Not all digits: nats-server parses a variable's value, and a number is not a password.
const password = (): string => `p${randomBytes(12).toString('hex')}`;
const secrets = {
  admin: password(),
  ipam: password(),
  api: password(),
  hostview: password(),
  secgroup: password(),
  neutron: password(),
  nat: password(),
  chaining: password(),
  status: password(),
  audit: password(),
  bgp: password(),
  vtep: password(),
  kafkaExporter: password(),
  pgProjector: password(),
  hv1: password(),
  hv2: password(),
};
const passwordVars: Record<string, string> = {
  STRATA_NATS_ADMIN_PASSWORD: secrets.admin,
  STRATA_NATS_IPAM_PASSWORD: secrets.ipam,
  STRATA_NATS_API_PASSWORD: secrets.api,
  STRATA_NATS_NEUTRON_PASSWORD: secrets.neutron,
  STRATA_NATS_HOSTVIEW_PASSWORD: secrets.hostview,
  STRATA_NATS_SECGROUP_PASSWORD: secrets.secgroup,
  STRATA_NATS_NAT_PASSWORD: secrets.nat,
  STRATA_NATS_CHAINING_PASSWORD: secrets.chaining,
  STRATA_NATS_STATUS_PASSWORD: secrets.status,
  STRATA_NATS_AUDIT_PASSWORD: secrets.audit,
  STRATA_NATS_BGP_PASSWORD: secrets.bgp,
  STRATA_NATS_VTEP_PASSWORD: secrets.vtep,
  STRATA_NATS_KAFKA_EXPORTER_PASSWORD: secrets.kafkaExporter,
  STRATA_NATS_PG_PROJECTOR_PASSWORD: secrets.pgProjector,
  STRATA_NATS_AGENT_HV1_PASSWORD: secrets.hv1,
  STRATA_NATS_AGENT_HV2_PASSWORD: secrets.hv2,
};

/** A connection that records the permission errors the server reports to it. */
interface Conn {
  nc: NatsConnection;
  errors: string[];
}

async function conn(user: string, pass: string, inboxPrefix: string, url: string): Promise<Conn> {
  const nc = await connect({ servers: url, user, pass, inboxPrefix });
  const errors: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      // nats.js reports a permission error's operation and subject beside its code.
      const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (s.type === 'error' && ctx) errors.push(`${ctx.operation} ${ctx.subject}`);
    }
  })();
  return { nc, errors };
}

/** Publish and wait for the server's verdict: the violation it reports for exactly this subject. */
async function publishRefused(c: Conn, subject: string): Promise<void> {
  c.nc.publish(subject, new Uint8Array());
  await c.nc.flush();
  await waitFor(() => c.errors.includes(`publish ${subject}`), {
    message: `violation for ${subject}`,
  });
}

/** Subscribe and wait for the server's verdict (the subscription ends with the violation). */
async function subscribeRefused(c: Conn, subject: string): Promise<string> {
  const sub = c.nc.subscribe(subject);
  const outcome = (async () => {
    for await (const _ of sub) return 'received a message';
    return 'closed without error';
  })().catch((e: Error) => e.message);
  await c.nc.flush();
  return outcome;
}

/** Watch a bucket until its snapshot is complete; the keys it delivered. */
async function snapshotKeys(kv: KV, key: string): Promise<string[]> {
  const keys: string[] = [];
  let w: QueuedIterator<KvEntry> | undefined;
  let done = false;
  w = await kv.watch({
    key,
    initializedFn: () => {
      done = true;
      w?.stop();
    },
  });
  if (done) w.stop();
  for await (const e of w) if (e.operation === 'PUT') keys.push(e.key);
  return keys.sort();
}

describe('NATS users and subject permissions', () => {
  let nats: NatsServerHandle;
  let ipam: IpamProcess;
  let hostview: ManagedProcess;
  let api: NatsConnection;
  let admin: NatsConnection;
  let client: IpamClient;
  let hostPoolId: string;

  /** A host's bucket as the admin sees it, once hostview has written its host key. */
  const hostKeyWritten = async (hostId: string): Promise<boolean> => {
    try {
      const kv = await admin.jetstream().views.kv(hostviewBucket(hostId), { bindOnly: true });
      return (await kv.get(hostviewKey.host(hostId)))?.operation === 'PUT';
    } catch {
      return false;
    }
  };
  const register = (id: string, n: number) => client.command('hypervisor.register', { id, vtepIp: `198.18.0.${n}`, hostPoolId }, ADMIN);

  beforeAll(async () => {
    // nats-server reads the password variables from its environment, which is ours.
    Object.assign(process.env, passwordVars);
    const config = execFileSync(process.execPath, [RENDER, '--agents', 'hv1,hv2'], { encoding: 'utf8' });
    nats = await startNatsServer({ config });
    // The operator creates every stream (no service user may): the log, the snapshot buckets, hv1's and hv2's buckets.
    admin = await connect({ servers: nats.url, user: 'admin', pass: secrets.admin });
    await provisionStreams(admin, { hosts: ['hv1', 'hv2'] });
    ipam = startIpam(nats.url, { NATS_USER: 'ipam', NATS_PASSWORD: secrets.ipam, STRATA_SERVICE_NAME: 'ipam' });
    await ipam.ready;
    api = await connect({ servers: nats.url, user: 'api', pass: secrets.api, inboxPrefix: '_INBOX_api' });
    client = new IpamClient(api);
    hostPoolId = (await client.command('pool.create', { name: 'host-ips', cidr: '198.51.100.0/24', purpose: 'host-ip' }, ADMIN)).id;
    // hv1 before hostview starts (its start-up reconcile writes the bucket), hv2 after (the live path does).
    await register('hv1', 11);
    hostview = startProcess('hostview', [process.execPath, HOSTVIEW_MAIN], {
      env: { NATS_URL: nats.url, NATS_USER: 'hostview', NATS_PASSWORD: secrets.hostview, STRATA_HTTP_PORT: '0', STRATA_LOG_LEVEL: 'info' },
    });
    await hostview.ready;
    await register('hv2', 12);
    await waitFor(() => hostKeyWritten('hv1'), { message: "hv1's bucket" });
    await waitFor(() => hostKeyWritten('hv2'), { message: "hv2's bucket" });
  });

  afterAll(async () => {
    await api?.close();
    await admin?.close();
    await hostview?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('lets the api send IPAM commands and IPAM write its events', async () => {
    const network = await client.command('network.create', { name: 'n' }, { tenant: 't1', admin: false });
    expect(network.vni).toBeGreaterThan(0);
  });

  it('refuses a wrong password', async () => {
    await expect(connect({ servers: nats.url, user: 'ipam', pass: 'wrong', reconnect: false })).rejects.toThrow(/Authorization Violation/i);
  });

  it('does not let the api write events', async () => {
    const js = api.jetstream();
    await expect(js.publish('strata.evt.ipam.network.x', new Uint8Array(), { timeout: 2000 })).rejects.toThrow();
  });

  it("does not let IPAM write another service's events", async () => {
    const nc = await connect({ servers: nats.url, user: 'ipam', pass: secrets.ipam, inboxPrefix: '_INBOX_ipam' });
    const h = headers();
    h.set('Nats-Msg-Id', 'x');
    await expect(nc.jetstream().publish('strata.evt.secgroup.group.x', new Uint8Array(), { timeout: 2000, headers: h })).rejects.toThrow();
    await nc.close();
  });

  it("does not let IPAM answer another service's commands", async () => {
    const nc = await connect({ servers: nats.url, user: 'ipam', pass: secrets.ipam, inboxPrefix: '_INBOX_ipam' });
    const sub = nc.subscribe('strata.cmd.secgroup.>');
    const failure = (async () => {
      for await (const _ of sub) return 'received a message';
      return 'closed without error';
    })().catch((e: Error) => e.message);
    await nc.flush();
    expect(await failure).toMatch(/Permissions Violation for Subscription to "strata\.cmd\.secgroup\.>"/);
    await nc.close();
  });

  it("lets chaining hear health reports but not forge them, nor hear IPAM's GARP reports, answer another's commands or write another's events", async () => {
    const c = await conn('chaining', secrets.chaining, '_INBOX_chaining', nats.url);
    try {
      // The control: it may subscribe to every agent's health reports (its own input).
      const heard = c.nc.subscribe('strata.status.*.health');
      await c.nc.flush();
      expect(heard.isClosed()).toBe(false);
      // A report's subject names its reporter: only that host's agent may publish it, never the service that decides on it.
      await publishRefused(c, 'strata.status.hv1.health');
      await publishRefused(c, agentReportSubject('hv1'));
      expect(await subscribeRefused(c, 'strata.status.*.garp')).toMatch(/Permissions Violation for Subscription to "strata\.status\.\*\.garp"/);
      expect(await subscribeRefused(c, 'strata.cmd.ipam.>')).toMatch(/Permissions Violation for Subscription to "strata\.cmd\.ipam\.>"/);
      const h = headers();
      h.set('Nats-Msg-Id', 'chaining-x');
      await expect(c.nc.jetstream().publish('strata.evt.ipam.network.x', new Uint8Array(), { timeout: 2000, headers: h })).rejects.toThrow();
    } finally {
      await c.nc.close();
    }
  });

  it('runs nat as user nat: its reactor consumer, its events, its commands; no one else\'s', async () => {
    const nat = startProcess('nat', [process.execPath, NAT_MAIN], {
      env: { NATS_URL: nats.url, NATS_USER: 'nat', NATS_PASSWORD: secrets.nat, STRATA_SERVICE_NAME: 'nat', STRATA_HTTP_PORT: '0', STRATA_LOG_LEVEL: 'info' },
    });
    try {
      // Ready means its durable consumer `nat-reactor` exists (created or bound at start).
      await nat.ready;
      const tenant = { tenant: 't-nat', admin: false };
      const router = await client.command('router.create', { name: 'r' }, tenant);
      const natClient = new NatClient(api, 15_000, client.seq);
      expect(await natClient.command('router.setGateway', { routerId: router.id, enabled: true }, tenant)).toMatchObject({ externalGateway: true });

      const c = await conn('nat', secrets.nat, '_INBOX_nat', nats.url);
      try {
        const h = headers();
        h.set('Nats-Msg-Id', 'nat-x');
        await expect(c.nc.jetstream().publish('strata.evt.ipam.network.x', new Uint8Array(), { timeout: 2000, headers: h })).rejects.toThrow();
        expect(await subscribeRefused(c, 'strata.cmd.ipam.>')).toMatch(/Permissions Violation for Subscription to "strata\.cmd\.ipam\.>"/);
        await publishRefused(c, '$JS.API.STREAM.DELETE.STRATA_EVENTS');
      } finally {
        await c.nc.close();
      }
    } finally {
      await nat.stop();
    }
  });

  it('lets pg-projector use its durable consumer and nothing else of the log: no other consumer, no events, no commands', async () => {
    const c = await conn('pg-projector', secrets.pgProjector, '_INBOX_pg-projector', nats.url);
    try {
      const jsm = await c.nc.jetstreamManager();
      await jsm.consumers.add('STRATA_EVENTS', { durable_name: 'pg-projector', ack_policy: AckPolicy.Explicit, filter_subject: 'strata.evt.>' });
      const m = await (await c.nc.jetstream().consumers.get('STRATA_EVENTS', 'pg-projector')).next({ expires: 2000 });
      expect(m?.subject).toMatch(/^strata\.evt\./);
      expect(await m!.ackAck()).toBe(true);
      await jsm.consumers.delete('STRATA_EVENTS', 'pg-projector');
      // Another name (an ordered reader's, or a reactor's durable), the stream's info, events, commands: refused.
      await expect(jsm.consumers.add('STRATA_EVENTS', { durable_name: 'other', ack_policy: AckPolicy.Explicit })).rejects.toThrow(/Permissions Violation|timeout/i);
      await expect(jsm.consumers.info('STRATA_EVENTS', 'nat-reactor')).rejects.toThrow(/Permissions Violation|timeout/i);
      await expect(jsm.streams.info('STRATA_EVENTS')).rejects.toThrow(/Permissions Violation|timeout/i);
      await publishRefused(c, 'strata.evt.ipam.network.x');
      await publishRefused(c, 'strata.cmd.ipam.x');
      await publishRefused(c, '$JS.API.STREAM.PURGE.STRATA_EVENTS');
      expect(await subscribeRefused(c, 'strata.evt.>')).toMatch(/Permissions Violation for Subscription/);
    } finally {
      await c.nc.close();
    }
  });

  describe('hostview (user hostview)', () => {
    it('keeps one bucket per registered host, each with only that host’s keys', async () => {
      const jsm = await admin.jetstreamManager();
      const names: string[] = [];
      for await (const n of jsm.streams.names()) names.push(n);
      expect(names.filter((n) => n.startsWith(hostviewStream('')))).toEqual(expect.arrayContaining([hostviewStream('hv1'), hostviewStream('hv2')]));
      const hv1 = await admin.jetstream().views.kv(hostviewBucket('hv1'), { bindOnly: true });
      // Its host key, and the view's position (written after it).
      expect(await snapshotKeys(hv1, '>')).toEqual([hostviewKey.host('hv1'), hostviewKey.position('hv1')]);
    });

    it('cannot write events, nor delete, purge or update the event stream, nor delete a bucket', async () => {
      const { nc } = await conn('hostview', secrets.hostview, '_INBOX_hostview', nats.url);
      try {
        const h = headers();
        h.set('Nats-Msg-Id', 'hv-x');
        await expect(nc.jetstream().publish('strata.evt.ipam.network.x', new Uint8Array(), { timeout: 2000, headers: h })).rejects.toThrow(/Permissions Violation/);
        const jsm = await nc.jetstreamManager();
        await expect(jsm.streams.delete('STRATA_EVENTS')).rejects.toThrow(/Permissions Violation/);
        await expect(jsm.streams.purge('STRATA_EVENTS')).rejects.toThrow(/Permissions Violation/);
        await expect(jsm.streams.update('STRATA_EVENTS', { max_msgs: 1 })).rejects.toThrow(/Permissions Violation/);
        await expect(jsm.streams.delete(hostviewStream('hv1'))).rejects.toThrow(/Permissions Violation/);
      } finally {
        await nc.close();
      }
    });
  });

  describe('agent-hv1', () => {
    let agent: Conn;
    let statuses: string[];
    let statusSub: ReturnType<NatsConnection['subscribe']>;

    beforeAll(async () => {
      // The runtime's inbox prefix for service name agent-hv1 (the agent's default name on host hv1).
      agent = await conn('agent-hv1', secrets.hv1, '_INBOX_agent-hv1', nats.url);
      statuses = [];
      statusSub = admin.subscribe('strata.status.>');
      void (async () => {
        for await (const m of statusSub) statuses.push(`${m.subject} ${m.string()}`);
      })();
      await admin.flush();
    });

    afterAll(async () => {
      statusSub?.unsubscribe();
      await agent?.nc.close();
    });

    it('watches its own bucket: snapshot, then deltas', async () => {
      const kv = await agent.nc.jetstream().views.kv(hostviewBucket('hv1'), { bindOnly: true });
      expect(await snapshotKeys(kv, hostviewKey.all('hv1'))).toEqual([hostviewKey.host('hv1'), hostviewKey.position('hv1')]);
    });

    it('publishes its status on strata.status.hv1, and not on strata.status.hv2', async () => {
      await publishRefused(agent, agentReportSubject('hv2'));
      // A barrier: one publisher's messages arrive in order, so a leaked hv2 status would come before it.
      agent.nc.publish(agentReportSubject('hv1'), 'barrier');
      await waitFor(() => statuses.includes(`${agentReportSubject('hv1')} barrier`), { message: 'own status delivered' });
      expect(statuses.filter((s) => s.startsWith(agentReportSubject('hv2')))).toEqual([]);
    });

    it("cannot create a consumer on hv2's bucket, in any form", async () => {
      const kv2 = await agent.nc.jetstream().views.kv(hostviewBucket('hv2'), { bindOnly: true });
      await expect(kv2.watch({ key: hostviewKey.all('hv2') })).rejects.toThrow(/Permissions Violation/);
      const stream = hostviewStream('hv2');
      const config = { ack_policy: 'none', deliver_policy: 'all', deliver_subject: '_INBOX_agent-hv1.steal', filter_subject: `$KV.${hostviewBucket('hv2')}.>` };
      for (const subject of [`$JS.API.CONSUMER.CREATE.${stream}`, `$JS.API.CONSUMER.CREATE.${stream}.c`, `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.c`]) {
        await expect(agent.nc.request(subject, JSON.stringify({ stream_name: stream, config }), { timeout: 2000 })).rejects.toThrow(/Permissions Violation/);
      }
      const jsm = await agent.nc.jetstreamManager();
      await expect(jsm.streams.info(stream)).rejects.toThrow(/Permissions Violation/);
      await expect(agent.nc.request(`$JS.API.STREAM.MSG.GET.${stream}`, JSON.stringify({ last_by_subj: `$KV.${hostviewBucket('hv2')}.hv2.host` }), { timeout: 2000 })).rejects.toThrow(
        /Permissions Violation/,
      );
      // Nor listen to the writes to it.
      expect(await subscribeRefused(agent, `$KV.${hostviewBucket('hv2')}.>`)).toMatch(/Permissions Violation for Subscription/);
    });

    it('cannot read the event stream', async () => {
      const jsm = await agent.nc.jetstreamManager();
      await expect(jsm.streams.info('STRATA_EVENTS')).rejects.toThrow(/Permissions Violation/);
      await expect(agent.nc.jetstream().consumers.get('STRATA_EVENTS').then((c) => c.next({ expires: 1000 }))).rejects.toThrow(/Permissions Violation/);
      await expect(
        agent.nc.request('$JS.API.CONSUMER.CREATE.STRATA_EVENTS', JSON.stringify({ stream_name: 'STRATA_EVENTS', config: { ack_policy: 'none', deliver_subject: '_INBOX_agent-hv1.e' } }), { timeout: 2000 }),
      ).rejects.toThrow(/Permissions Violation/);
      expect(await subscribeRefused(agent, 'strata.evt.>')).toMatch(/Permissions Violation for Subscription/);
    });

    it('cannot send commands, write events or list streams', async () => {
      await expect(agent.nc.request('strata.cmd.ipam.x', '{}', { timeout: 2000 })).rejects.toThrow(/Permissions Violation/);
      await publishRefused(agent, 'strata.cmd.ipam.x');
      await publishRefused(agent, 'strata.evt.ipam.network.x');
      const jsm = await agent.nc.jetstreamManager();
      await expect(jsm.streams.names().next()).rejects.toThrow(/Permissions Violation/);
    });
  });

  // The real agent process: default service name agent-hv1 (so its inbox is the one its user may use), its own
  // bucket, status out. It manages a scratch network namespace, so it needs root.
  itIf(kernel())('the agent process, as user agent-hv1, syncs its view and reports its status', async () => {
    const prefix = `stp${randomBytes(3).toString('hex')}-`;
    const stateDir = mkdtempSync(join(tmpdir(), `${prefix}agent-`));
    const ns = await Netns.create(`${prefix}hv1`);
    const statuses: AgentReport[] = [];
    const sub = admin.subscribe(agentReportSubject('hv1'));
    void (async () => {
      for await (const m of sub) {
        const s = AgentReport.safeParse(m.json());
        if (s.success) statuses.push(s.data);
      }
    })();
    await admin.flush();
    const agentProcess = startProcess('agent-hv1', [process.execPath, AGENT_MAIN], {
      env: {
        NATS_URL: nats.url,
        NATS_USER: 'agent-hv1',
        NATS_PASSWORD: secrets.hv1,
        STRATA_HTTP_PORT: '0',
        STRATA_LOG_LEVEL: 'info',
        AGENT_HOST_ID: 'hv1',
        AGENT_NETNS: ns.name,
        AGENT_NETNS_PREFIX: prefix,
        AGENT_STATE_DIR: stateDir,
        AGENT_LINK_MONITOR: 'false',
      },
    });
    try {
      await agentProcess.ready;
      await waitFor(() => statuses.find((s) => s.hostId === 'hv1' && s.generation > 0 && s.error === null), { timeoutMs: 20_000, message: 'agent status' });
      expect(agentProcess.output()).not.toMatch(/Permissions Violation/);
    } finally {
      sub.unsubscribe();
      await agentProcess.stop(5_000);
      await ns.delete();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
