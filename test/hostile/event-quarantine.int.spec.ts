/**
 * Poisoned events (issue 11, defect 13: "one bad event stops two services
 * for good"). A compromised secgroup writes, as the `secgroup` NATS user and
 * straight into the stream (no store, no registry), events its own readers
 * cannot decode: an unknown type on a live group, a GroupCreated whose data
 * fails its schema, a RuleAdded of a version newer than any reader, bytes
 * that are no JSON, and an envelope that claims to be an IPAM port event
 * while stored on a secgroup subject (also on a deeper secgroup subject
 * ending in the IPAM aggregate's tokens). Before the fix secgroup's and
 * hostview's projections stopped, and after a restart secgroup answered
 * INTERNAL "unknown event type" forever.
 *
 * Must: both keep serving (a group, a rule, a port bound to a host through
 * the real API; hostview writes that port's view), each bad event is
 * quarantined (readiness stays 200 but says degraded with the sequences and
 * reasons; `strata_events_quarantined_total`), the live group the unknown
 * event landed on refuses commands with FAILED_PRECONDITION and nothing is
 * written for them, ListEvents keeps working (the unreadable events are for
 * the admin's eyes only), and all of it holds after secgroup restarts (from a
 * snapshot taken at its graceful stop, which is not trusted because it
 * carries quarantined events).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, headers, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostviewBucket } from '@strata/contracts';
import { run } from '@strata/cli';
import { startControlPlane, startProcess, type ControlPlane, type ManagedProcess } from '@strata/lab';
import { freePort, waitFor } from '@strata/testing';

/** Ids of the IPAM ports the attacker forges (well-formed, so only the subject check keeps them out). */
const FORGED = ['00000000-0000-4000-8000-00000000f001', '00000000-0000-4000-8000-00000000f002'] as const;

const main = (service: string): string => fileURLToPath(new URL(`../../services/${service}/dist/main.js`, import.meta.url));

interface Readyz {
  status: string;
  degraded: string[];
  checks: Record<string, { ok: boolean; degraded?: boolean; detail?: { quarantined: number; recent: { seq: number; reason: string; type: string }[] } }>;
}

/** The service's metrics/health address, from its "connected" log line (it listens on a free port). */
async function httpOf(p: ManagedProcess): Promise<string> {
  await p.ready;
  const m = /"http":"([\d.]+:\d+)"/.exec(p.output());
  if (!m) throw new Error(`${p.name}: no http address in its log`);
  return `http://${m[1]}`;
}

async function readyz(base: string): Promise<{ code: number; body: Readyz }> {
  const res = await fetch(`${base}/readyz`);
  return { code: res.status, body: (await res.json()) as Readyz };
}

async function quarantinedMetric(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^strata_events_quarantined_total\{([^}]*)\} (\d+)/gm)) {
    const reason = /reason="([^"]+)"/.exec(m[1]!)?.[1] ?? '?';
    out[reason] = (out[reason] ?? 0) + Number(m[2]);
  }
  return out;
}

describe('hostile: events a reader cannot decode are quarantined, not fatal (issue 11 #13)', () => {
  let dir: string;
  let cp: ControlPlane;
  let hostview: ManagedProcess;
  let secgroup: ManagedProcess;
  let attacker: NatsConnection;
  let observer: NatsConnection;
  let tenant: string;
  let admin: string;
  let networkId: string;
  const bad: { seq: number; reason: string }[] = [];
  let victimGroup: string;

  async function strata(token: string, argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await run([...argv, '-o', 'json'], {
      io: { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) },
      env: { STRATA_SERVER: cp.apiAddr, STRATA_TOKEN: token, ...cp.cliEnv },
    });
    return { code, out, err };
  }
  async function ok<T>(token: string, argv: string[]): Promise<T> {
    const r = await strata(token, argv);
    if (r.code !== 0) throw new Error(`strata ${argv.join(' ')} exited ${r.code}: ${r.err.trim()}`);
    return JSON.parse(r.out) as T;
  }
  const lastSeq = async (): Promise<number> => (await (await observer.jetstreamManager()).streams.info('STRATA_EVENTS')).state.last_seq;

  /** The key hostview wrote for a port on hv1, read as the admin (an observer, not a component under test). */
  async function portView(portId: string): Promise<unknown> {
    const kv = await observer.jetstream().views.kv(hostviewBucket('hv1'), { bindOnly: true });
    const e = await kv.get(`hv1.port.${portId}`);
    return e && e.operation === 'PUT' ? e.json() : undefined;
  }

  /** Publish raw bytes into secgroup's context exactly as the secgroup user can; returns the stream sequence. */
  async function inject(aggregateId: string, body: string | object, subject = `strata.evt.secgroup.group.${aggregateId}`): Promise<number> {
    const h = headers();
    h.set('Nats-Msg-Id', `poison-${bad.length}-${aggregateId}`);
    const bytes = new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
    return (await attacker.jetstream().publish(subject, bytes, { headers: h })).seq;
  }
  const envelope = (id: string, type: string, version: number, data: unknown, aggregate = { context: 'secgroup', type: 'group', id }) => ({
    id: `poison-${type}-${id}`,
    type,
    version,
    aggregate,
    tenant: 'tenant-a',
    actor: 'secgroup',
    correlationId: 'poison',
    causationId: null,
    occurredAt: new Date().toISOString(),
    data,
  });

  /** A service process as the control plane runs it: its own NATS user, the control plane's command key. */
  function startService(name: 'secgroup' | 'hostview'): ManagedProcess {
    const p = startProcess(name, [process.execPath, main(name)], {
      env: {
        NATS_URL: cp.natsUrl,
        NATS_USER: name,
        NATS_PASSWORD: cp.passwords[name]!,
        STRATA_COMMAND_VERIFY_KEYS: cp.commandKeys.verifyKey,
        STRATA_HTTP_PORT: '0',
        STRATA_LOG_LEVEL: 'info',
      },
    });
    cp.processes.push(p);
    return p;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-quarantine-'));
    cp = await startControlPlane(dir, ['tenant-a'], () => undefined, { natsPort: await freePort(), apiAddr: `127.0.0.1:${await freePort()}`, agents: ['hv1'] });
    secgroup = cp.processes.find((p) => p.name === 'secgroup')!;
    hostview = startService('hostview');
    await hostview.ready;
    attacker = await connect({ servers: cp.natsUrl, user: 'secgroup', pass: cp.passwords['secgroup']!, inboxPrefix: '_INBOX_secgroup', name: 'attacker' });
    observer = await connect({ servers: cp.natsUrl, user: 'admin', pass: cp.passwords['admin']!, name: 'observer' });
    tenant = cp.tokens['tenant-a']!;
    admin = cp.tokens['admin']!;

    // A host, a network and a group with a rule: the world the poison lands in.
    const pool = await ok<{ id: string }>(admin, ['pool', 'create', '--name', 'hosts', '--cidr', '198.51.100.0/24', '--purpose', 'host-ip']);
    await ok(admin, ['hypervisor', 'register', 'hv1', '--vtep-ip', '198.18.0.11', '--host-pool', pool.id]);
    networkId = (await ok<{ id: string }>(tenant, ['network', 'create', '--name', 'n1'])).id;
    victimGroup = (await ok<{ id: string }>(tenant, ['secgroup', 'create', '--name', 'victim'])).id;
    await ok(tenant, ['secgroup', 'rule', 'create', victimGroup, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', '22']);
    const before = await ok<{ id: string }>(tenant, ['port', 'create', '--network', networkId, '--host', 'hv1']);
    await waitFor(() => portView(before.id), { timeoutMs: 30_000, message: 'hostview writes the first port' });

    // The attack: six events no reader can decode, each in secgroup's own context.
    bad.push({ seq: await inject(victimGroup, envelope(victimGroup, 'secgroup.GroupRenamed', 1, { name: 'pwned' })), reason: 'unknown-type' });
    bad.push({ seq: await inject('sg-bad-data', envelope('sg-bad-data', 'secgroup.GroupCreated', 1, { groupId: 5, rules: 'all' })), reason: 'invalid-data' });
    const rule = { id: 'r-future', direction: 'ingress', ethertype: 'IPv4', protocol: 'any' };
    bad.push({ seq: await inject('sg-future', envelope('sg-future', 'secgroup.RuleAdded', 99, { groupId: 'sg-future', rule })), reason: 'newer-version' });
    bad.push({ seq: await inject('sg-garbage', '\u0000not json{'), reason: 'envelope' });
    // Valid IPAM port data: only the subject check stands between it and secgroup's (and hostview's) read model of ports.
    const portData = { portId: FORGED[0], name: '', mac: 'fa:16:3e:00:00:01', fixedIps: [], hostId: 'hv1', deviceId: '' };
    const forged = envelope('net-x', 'ipam.PortCreated', 1, portData, { context: 'ipam', type: 'network', id: 'net-x' });
    bad.push({ seq: await inject('sg-forged', forged), reason: 'subject-mismatch' });
    // The same forgery on a deeper subject that ends like the IPAM aggregate's (the secgroup user may publish under strata.evt.secgroup.>).
    const forgedPort = envelope(networkId, 'ipam.PortCreated', 1, { ...portData, portId: FORGED[1] }, { context: 'ipam', type: 'network', id: networkId });
    bad.push({ seq: await inject('sg-deep', forgedPort, `strata.evt.secgroup.ipam.network.${networkId}`), reason: 'subject-mismatch' });
  });

  afterAll(async () => {
    await attacker?.close();
    await observer?.close();
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Each of them is quarantined by this reader, and shown in its status and metrics; the service is still ready. */
  async function expectQuarantined(p: ManagedProcess): Promise<void> {
    const base = await httpOf(p);
    let last: { code: number; body: Readyz } | undefined;
    await waitFor(
      async () => {
        last = await readyz(base);
        return (last.body.checks['quarantine']?.detail?.quarantined ?? 0) >= bad.length;
      },
      { timeoutMs: 30_000, message: `${p.name} reports the poisoned events` },
    );
    const { code, body } = last!;
    expect(code).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.degraded).toEqual(['quarantine']);
    const recent = body.checks['quarantine']!.detail!.recent.map((q) => ({ seq: q.seq, reason: q.reason }));
    expect(recent).toEqual(bad);
    const byReason: Record<string, number> = {};
    for (const b of bad) byReason[b.reason] = (byReason[b.reason] ?? 0) + 1;
    expect(await quarantinedMetric(base)).toEqual(byReason);
  }

  async function expectServing(name: string): Promise<void> {
    const group = await ok<{ id: string; name: string }>(tenant, ['secgroup', 'create', '--name', name]);
    await ok(tenant, ['secgroup', 'rule', 'create', group.id, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', '443']);
    expect(await ok<{ rules: unknown[] }>(tenant, ['secgroup', 'show', group.id])).toMatchObject({ name, rules: [{ portMin: 443 }] });
    const port = await ok<{ id: string }>(tenant, ['port', 'create', '--network', networkId, '--host', 'hv1']);
    // The port reactor still puts new ports in the default group; then the port joins the new group.
    await waitFor(async () => (await ok<{ groupIds: string[] }>(tenant, ['port', 'security', port.id])).groupIds.length === 1, {
      timeoutMs: 30_000,
      message: 'the new port is in its default group',
    });
    await ok(tenant, ['port', 'set-groups', port.id, group.id]);
    // hostview keeps deriving views: the port, with its new group, reaches hv1's bucket.
    await waitFor(async () => JSON.stringify((await portView(port.id)) ?? {}).includes(group.id), {
      timeoutMs: 30_000,
      message: 'hostview writes the new port with its group',
    });
  }

  async function expectVictimRefused(): Promise<void> {
    const seq = await lastSeq();
    const r = await strata(tenant, ['secgroup', 'rule', 'create', victimGroup, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', '80']);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('FAILED_PRECONDITION');
    expect(r.err).toContain(`log sequence ${bad[0]!.seq}`);
    expect(r.err).not.toMatch(/unknown event type|INTERNAL/);
    expect(await lastSeq()).toBe(seq);
  }

  it('secgroup and hostview keep serving, and quarantine each poisoned event with its reason', async () => {
    await expectServing('after-the-poison');
    await expectQuarantined(secgroup);
    await expectQuarantined(hostview);
  });

  it('a group whose history has an event secgroup cannot read refuses commands (FAILED_PRECONDITION) and writes nothing', async () => {
    await expectVictimRefused();
    // The forged IPAM ports never reached secgroup's read model of ports.
    for (const port of FORGED) {
      const r = await strata(tenant, ['port', 'security', port]);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain('NOT_FOUND');
    }
    // Reading it still works: the state before the unreadable event.
    expect(await ok<{ rules: unknown[] }>(tenant, ['secgroup', 'show', victimGroup])).toMatchObject({ name: 'victim', rules: [{ portMin: 22 }] });
  });

  it('ListEvents keeps working: the admin sees the unreadable events, the tenant does not', async () => {
    const all = await ok<{ events: { seq: string; type: string; tenant: string }[] }>(admin, ['events', 'list', '--limit', '10000']);
    const seqs = new Set(all.events.map((e) => Number(e.seq)));
    for (const b of bad) expect(seqs.has(b.seq)).toBe(true);
    const mine = await ok<{ events: { seq: string }[] }>(tenant, ['events', 'list', '--limit', '10000']);
    const unreadable = new Set([bad[3]!.seq, bad[4]!.seq, bad[5]!.seq]);
    expect(mine.events.filter((e) => unreadable.has(Number(e.seq)))).toEqual([]);
  });

  it('Watch keeps streaming past unreadable events, history and live, and the stream stays open', async () => {
    const interrupt = new AbortController();
    let out = '';
    let err = '';
    const tail = run(['events', 'tail', '-o', 'json'], {
      io: { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) },
      env: { STRATA_SERVER: cp.apiAddr, STRATA_TOKEN: admin, ...cp.cliEnv },
      interrupt: interrupt.signal,
    });
    const seen = (seq: number): boolean => out.split('\n').some((l) => l !== '' && Number((JSON.parse(l) as { seq: string }).seq) === seq);
    try {
      await waitFor(() => err.includes('caught up'), { timeoutMs: 30_000, message: 'Watch catches up' });
      for (const b of bad) expect(seen(b.seq)).toBe(true);
      // Live: another unreadable event, then a real change after it.
      const live = await inject('sg-live-garbage', '[1,2,3]');
      bad.push({ seq: live, reason: 'envelope' });
      const group = await ok<{ id: string }>(tenant, ['secgroup', 'create', '--name', 'after-live-poison']);
      await waitFor(() => seen(live) && out.includes(group.id), { timeoutMs: 30_000, message: 'Watch delivers the live events' });
    } finally {
      interrupt.abort();
    }
    expect(await tail).toBe(0);
    expect(err).not.toMatch(/INTERNAL|unknown event type|JSON/);
  });

  it('after a restart secgroup still serves, still quarantines, and does not trust its snapshot', async () => {
    await secgroup.stop(10_000);
    expect(secgroup.output()).toMatch(/"msg":"snapshot saved"/);
    secgroup = startService('secgroup');
    await secgroup.ready;
    // Its snapshot (saved at the stop, quarantine included) is not what it starts from: it replays the log.
    expect(secgroup.output()).toMatch(/"fromSnapshot":false,"msg":"state rebuilt"/);
    await expectQuarantined(secgroup);
    await expectServing('after-the-restart');
    await expectVictimRefused();
    await expectQuarantined(hostview);
  });

  it("the reactors terminate an IPAM event they cannot decode instead of redelivering it forever; IPAM refuses commands on that network", async () => {
    const n2 = (await ok<{ id: string }>(tenant, ['network', 'create', '--name', 'n2'])).id;
    // A compromised IPAM: a PortDeleted whose data fails its schema, which both reactors (secgroup's, nat's) follow.
    const ipamWriter = await connect({ servers: cp.natsUrl, user: 'ipam', pass: cp.passwords['ipam']!, inboxPrefix: '_INBOX_ipam', name: 'attacker-ipam' });
    let seq: number;
    try {
      const poison = envelope(n2, 'ipam.PortDeleted', 1, { portId: 7 }, { context: 'ipam', type: 'network', id: n2 });
      seq = (await ipamWriter.jetstream().publish(`strata.evt.ipam.network.${n2}`, new TextEncoder().encode(JSON.stringify(poison)))).seq;
    } finally {
      await ipamWriter.close();
    }
    const reactorQuarantined = async (p: ManagedProcess, metric: string): Promise<number> => {
      const text = await (await fetch(`${await httpOf(p)}/metrics`)).text();
      const m = new RegExp(`^${metric}\\{[^}]*type="ipam.PortDeleted"[^}]*outcome="quarantined"[^}]*\\} (\\d+)`, 'm').exec(text) ??
        new RegExp(`^${metric}\\{[^}]*outcome="quarantined"[^}]*type="ipam.PortDeleted"[^}]*\\} (\\d+)`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };
    const nat = cp.processes.find((p) => p.name === 'nat')!;
    await waitFor(async () => (await reactorQuarantined(secgroup, 'strata_secgroup_reactor_events_total')) === 1, { timeoutMs: 30_000, message: 'secgroup reactor quarantines' });
    await waitFor(async () => (await reactorQuarantined(nat, 'strata_nat_reactor_events_total')) === 1, { timeoutMs: 30_000, message: 'nat reactor quarantines' });
    // Terminated, not pending: nothing will redeliver it.
    const jsm = await observer.jetstreamManager();
    for (const durable of ['secgroup-port-reactor', 'nat-reactor']) {
      await waitFor(async () => (await jsm.consumers.info('STRATA_EVENTS', durable)).num_ack_pending === 0, { message: `${durable} has nothing pending` });
      expect((await jsm.consumers.info('STRATA_EVENTS', durable)).delivered.stream_seq).toBeGreaterThanOrEqual(seq);
    }
    // IPAM's own reader quarantined it too: the network refuses changes, with the reason, and nothing is written.
    const ipam = cp.processes.find((p) => p.name === 'ipam-1')!;
    await waitFor(async () => (await readyz(await httpOf(ipam))).body.status === 'degraded', { message: 'ipam reports degraded' });
    const before = await lastSeq();
    const refused = await strata(tenant, ['port', 'create', '--network', n2]);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('FAILED_PRECONDITION');
    expect(refused.err).toContain(`log sequence ${seq}`);
    expect(await lastSeq()).toBe(before);
    // Everything else keeps working, the reactors included.
    await expectServing('after-the-ipam-poison');
  });
});
