/**
 * Issue 16: the PostgreSQL read model under kill -9. Real components:
 * nats-server with the production users (render-accounts.mjs), PostgreSQL
 * 15 from Debian (a throwaway cluster), and the projector as real
 * processes (`dist/bare.js`: the same PgProjector and crash hook as the
 * service, without the HTTP runtime, so a thousand starts fit the budget)
 * connecting as its own NATS user `pg-projector`.
 *
 * While a writer appends events, three projector processes run (one
 * active, two standbys); the test kill -9s the active at random moments
 * and each process also kills itself (SIGKILL) right after a commit with a
 * small probability — the case "committed, not acknowledged" — printing a
 * marker first, so the test counts those. Every dead process is replaced.
 * Then: every event is in `events` exactly once (count = last position, no
 * gaps), the version tables hold exactly the versions the events make,
 * each resource's versions chain without holes or overlaps; the model is
 * rebuilt from position 1 online and every table's hash is the same; a
 * standby took over after each death of the active; the service's real
 * entry point hands over to its standby and reports it in /metrics; the
 * auditors' SQL of docs/pg-read-model.md gives the answers computed from
 * the log; and when PostgreSQL ends the active's session (the lock goes
 * with it) another session takes the lock and nothing is lost or doubled.
 * PG_CRASH_KILLS sets the number of deaths (default 1,000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore, type AggregateRef, type StoredEvent } from '@strata/eventlog';
import { provisionStreams } from '@strata/lab';
import { CRASH_MARKER, modelHashes, modelTables, rebuildModel, resourcesOf, versionTable } from '@strata/pg-projector';
import { startPostgres, startStrataNats, waitFor, type PostgresHandle, type StrataNats } from '@strata/testing';

const BARE = fileURLToPath(new URL('../../services/pg-projector/dist/bare.js', import.meta.url));
const DOC = fileURLToPath(new URL('../../docs/pg-read-model.md', import.meta.url));
const KILLS = Number(process.env['PG_CRASH_KILLS'] ?? 1000);
const SCHEMA = 'strata';
/** Projector processes kept running: one active, the others standbys or starting. */
const POOL = 4;

interface Proc {
  child: ChildProcess;
  n: number;
  /** Set when it printed `role: standby` (holding a session, waiting for the lock). */
  standby: boolean;
  active: boolean;
  crashedAfterCommit: boolean;
  exited: Promise<void>;
  log: string;
}

let nats: StrataNats;
let pgc: PostgresHandle;
let db: pg.Client;
let store: JetStreamEventStore;
const procs = new Set<Proc>();
let spawned = 0;
/** Most recent activations, in order (process numbers). */
const activations: number[] = [];

const MAIN = fileURLToPath(new URL('../../services/pg-projector/dist/main.js', import.meta.url));

/** A projector process: the bare entry with the crash hook, or the service's real entry point without it. */
function spawnProjector(entry: 'bare' | 'main' = 'bare'): Proc {
  const child = spawn(process.execPath, [entry === 'bare' ? BARE : MAIN], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env['PATH'] ?? '',
      ...nats.env('pg-projector'),
      STRATA_PG_URL: pgc.url,
      STRATA_PG_SCHEMA: SCHEMA,
      STRATA_PG_BATCH: '200',
      ...(entry === 'bare' ? { STRATA_PG_PROJECTOR_CRASH_AFTER_COMMIT: '0.05' } : {}),
    },
  });
  const p: Proc = { child, n: ++spawned, standby: false, active: false, crashedAfterCommit: false, exited: new Promise((r) => child.once('close', () => r())), log: '' };
  const onOutput = (chunk: string): void => {
    p.log = (p.log + chunk).slice(-8192);
    if (chunk.includes('"role":"standby"') || chunk.includes('pg-projector: standby')) p.standby = true;
    if (chunk.includes('"role":"active"') || chunk.includes('pg-projector: active')) {
      p.active = true;
      activations.push(p.n);
    }
    if (chunk.includes(CRASH_MARKER)) p.crashedAfterCommit = true;
  };
  for (const out of [child.stdout!, child.stderr!]) {
    out.setEncoding('utf8');
    out.on('data', onOutput);
  }
  procs.add(p);
  void p.exited.then(() => procs.delete(p));
  return p;
}

// --- the writer: events of three audit kinds and their aggregates ---------------------------

const NOW = () => new Date().toISOString();
let written = 0;
const ports = new Map<string, { tenant: string; network: string; alive: boolean }>();
const fips = new Map<string, boolean>();

async function append(ref: AggregateRef, type: string, data: unknown, tenant: string, actor: string, reason?: string): Promise<void> {
  written++;
  await store.append(
    ref,
    { id: `e-${written}-${Math.random().toString(36).slice(2)}`, type, version: 1, aggregate: ref, tenant, actor, correlationId: `c-${written}`, causationId: null, occurredAt: NOW(), data, ...(reason ? { reason } : {}) },
    { expectedVersion: 'any' },
  );
}

/** One step of plausible traffic: groups and rules change, ports come and go, floating IPs are allocated and released. */
async function step(i: number): Promise<void> {
  const tenant = i % 3 === 0 ? 'tenant-b' : 'tenant-a';
  const actor = ['alice', 'bob', 'carol'][i % 3]!;
  const group = `sg-${i % 17}`;
  switch (i % 6) {
    case 0:
      return append({ context: 'secgroup', type: 'group', id: group }, 'secgroup.RuleAdded', { groupId: group, rule: { id: `r${i}`, port: i % 1000 } }, tenant, actor, i % 12 === 0 ? `ticket ${i}` : undefined);
    case 1:
      return append({ context: 'secgroup', type: 'group', id: group }, 'secgroup.RuleRemoved', { groupId: group, ruleId: `r${i - 1}` }, tenant, actor);
    case 2:
    case 3: {
      const alive = [...ports].find(([, p]) => p.alive && p.tenant === tenant && i % 4 === 3);
      const network = `net-${tenant}`;
      if (alive) {
        alive[1].alive = false;
        return append({ context: 'ipam', type: 'network', id: alive[1].network }, 'ipam.PortDeleted', { portId: alive[0], releasedIps: [] }, tenant, actor);
      }
      const port = `port-${i}`;
      ports.set(port, { tenant, network, alive: true });
      return append({ context: 'ipam', type: 'network', id: network }, 'ipam.PortCreated', { portId: port, networkId: network, note: i === 2 ? 'nul\u0000inside' : 'x' }, tenant, actor);
    }
    case 4: {
      const fip = `fip-${i}`;
      fips.set(fip, true);
      return append({ context: 'ipam', type: 'cloud', id: 'cloud' }, 'ipam.FloatingIpAllocated', { floatingIpId: fip, poolId: 'pool-1', address: '203.0.113.7' }, tenant, actor);
    }
    default: {
      const fip = [...fips].find(([, live]) => live)?.[0];
      if (fip === undefined) return;
      fips.set(fip, false);
      return append({ context: 'ipam', type: 'cloud', id: 'cloud' }, 'ipam.FloatingIpReleased', { floatingIpId: fip, address: '203.0.113.7' }, tenant, actor, `released by ${actor}`);
    }
  }
}

async function checkpoint(): Promise<number> {
  const r = await db.query<{ last_seq: string }>(`SELECT last_seq FROM ${SCHEMA}.checkpoint`).catch(() => ({ rows: [] as Array<{ last_seq: string }> }));
  return Number(r.rows[0]?.last_seq ?? 0);
}

beforeAll(async () => {
  [nats, pgc] = await Promise.all([startStrataNats(), startPostgres()]);
  const admin = await nats.connect('admin');
  await provisionStreams(admin, { hosts: [] });
  store = await JetStreamEventStore.open(admin);
  db = new pg.Client({ connectionString: pgc.url });
  await db.connect();
});

afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await Promise.all([...procs].map((p) => p.exited));
  await db?.end().catch(() => undefined);
  await nats?.stop();
  await pgc?.stop();
});

describe('the PostgreSQL read model under kill -9 (issue 16)', () => {
  const stats = { externalKills: 0, hookKills: 0, takeoversByStandby: 0, deathsOfActive: 0, wallMs: 0 };
  let events: StoredEvent[] = [];

  it(`${KILLS} deaths of the projector under load: every event exactly once, a standby takes over each time`, async () => {
    const t0 = Date.now();
    // A little history before the first projector, then the writer runs throughout.
    for (let i = 0; i < 300; i++) await step(i);
    // A message that is no event envelope: projected as unreadable, never blocking.
    await (await nats.connect('admin')).jetstream().publish('strata.evt.secgroup.group.sg-junk', new TextEncoder().encode('not json'));
    written++;
    let writing = true;
    const writer = (async () => {
      // About 200 events a second: load, not a flood the kills would never let the model catch up with.
      for (let i = 300; writing; i++) {
        await step(i);
        if (i % 4 === 0) await new Promise((r) => setTimeout(r, 20));
      }
    })();

    for (let i = 0; i < POOL; i++) spawnProjector();
    let deaths = 0;
    while (deaths < KILLS) {
      // Wait for an active projector; replace the dead as they go.
      const isLiveActive = (p: Proc): boolean => p.active && p.child.exitCode === null && p.child.signalCode === null;
      await waitFor(() => [...procs].some(isLiveActive), { timeoutMs: 60_000, intervalMs: 2, message: 'an active projector' });
      const active = [...procs].find(isLiveActive)!;
      // Kill only while a standby waits for the lock (it may still be starting), so each death shows a takeover.
      const waiting = (): Proc[] => [...procs].filter((p) => p !== active && p.standby && !p.active && p.child.exitCode === null);
      await waitFor(() => waiting().length > 0 || active.child.exitCode !== null || active.child.signalCode !== null, { timeoutMs: 60_000, intervalMs: 2, message: 'a standby' });
      const standbys = waiting();
      // Random moment: from at once (before its first batch) to a few batches in.
      const delay = Math.random() * 150;
      const died = await Promise.race([active.exited.then(() => 'self' as const), new Promise<'timer'>((r) => setTimeout(() => r('timer'), delay))]);
      if (died === 'timer') {
        active.child.kill('SIGKILL');
        await active.exited;
        stats.externalKills++;
      }
      else if (active.crashedAfterCommit) stats.hookKills++;
      deaths++;
      stats.deathsOfActive++;
      if (standbys.length > 0) {
        // One of the standbys that were waiting becomes active (no new process needed).
        await waitFor(() => standbys.some((s) => s.active), { timeoutMs: 30_000, intervalMs: 2, message: `a standby to take over from projector ${active.n}:\n${active.log}` });
        stats.takeoversByStandby++;
      }
      while (procs.size < POOL) spawnProjector();
    }
    writing = false;
    await writer;
    // The service's real entry point from here on (no crash hook): one active, one standby.
    const crashing = [...procs];
    for (const p of crashing) p.child.kill('SIGKILL');
    await Promise.all(crashing.map((p) => p.exited));
    const first = spawnProjector('main');
    await waitFor(() => first.active, { timeoutMs: 30_000, message: `the service to become active:\n${first.log}` });
    const second = spawnProjector('main');
    await waitFor(() => second.standby, { timeoutMs: 30_000, message: `the second instance to wait as a standby:\n${second.log}` });
    expect(second.active).toBe(false);
    first.child.kill('SIGKILL');
    await first.exited;
    await waitFor(() => second.active, { timeoutMs: 30_000, message: `the standby to take over:\n${second.log}` });
    stats.takeoversByStandby++;
    const third = spawnProjector('main');
    await waitFor(() => third.standby, { timeoutMs: 30_000, message: `a new standby:\n${third.log}` });
    const last = await store.lastSeq();
    expect(last).toBe(written);
    await waitFor(async () => (await checkpoint()) === last, { timeoutMs: 120_000, intervalMs: 50, message: `the model to reach position ${last}:\n${second.log.slice(-2000)}` });
    // The service's /readyz and /metrics: both ready, only the active one writing, at the end of the log.
    const metrics = async (p: Proc): Promise<string> => {
      const addr = /"http":"([\d.]+:\d+)"/.exec(p.log)?.[1];
      if (addr === undefined) throw new Error(`no http address in the log of projector ${p.n}`);
      expect((await fetch(`http://${addr}/readyz`)).status).toBe(200);
      return (await fetch(`http://${addr}/metrics`)).text();
    };
    await waitFor(async () => (await metrics(second)).includes(`strata_pg_projector_position{service="pg-projector"} ${last}`), { message: "the active instance's position metric" });
    expect(await metrics(second)).toMatch(/strata_pg_projector_active\{service="pg-projector"\} 1/);
    expect(await metrics(third)).toMatch(/strata_pg_projector_active\{service="pg-projector"\} 0/);
    stats.wallMs = Date.now() - t0;
    console.log(`pg-projector crash test: ${deaths} deaths (${stats.externalKills} kill -9 by the test at random moments, ${stats.hookKills} kill -9 right after a commit, before the ack), ${stats.takeoversByStandby} takeovers by a waiting standby, ${spawned} processes, ${last} events, ${stats.wallMs} ms`);

    expect(stats.hookKills).toBeGreaterThan(0);
    // Every kill by the test found a standby waiting, and a waiting standby took over each time.
    expect(stats.takeoversByStandby).toBeGreaterThanOrEqual(stats.externalKills);

    // Exactly once: one row per position, none missing, none twice (seq is the key).
    const r = await db.query<{ n: string; lo: string; hi: string; ids: string }>(`SELECT count(*) n, min(seq) lo, max(seq) hi, count(DISTINCT id) ids FROM ${SCHEMA}.events`);
    expect(r.rows[0]).toEqual({ n: String(last), lo: '1', hi: String(last), ids: String(last) });

    // The version tables hold exactly the versions the log's events make.
    events = [];
    for await (const e of store.read()) events.push(e);
    expect(events.length).toBe(last);
    const expected = new Map<string, number>();
    for (const e of events) for (const ref of resourcesOf(e)) expected.set(versionTable(ref.kind), (expected.get(versionTable(ref.kind)) ?? 0) + 1);
    for (const { table } of modelTables().slice(1)) {
      const c = await db.query<{ n: string }>(`SELECT count(*) n FROM ${SCHEMA}.${table}`);
      expect([table, Number(c.rows[0]!.n)]).toEqual([table, expected.get(table) ?? 0]);
      // Each resource's versions: 1..n, each ending where the next begins, only the last current.
      const broken = await db.query(
        `SELECT resource_id, version FROM (
           SELECT resource_id, version, valid_to_seq, lead(valid_from_seq) OVER w AS next_from, row_number() OVER w AS rn
           FROM ${SCHEMA}.${table} WINDOW w AS (PARTITION BY resource_id ORDER BY version)) x
         WHERE version <> rn OR valid_to_seq IS DISTINCT FROM next_from`,
      );
      expect([table, broken.rows]).toEqual([table, []]);
    }
    const unreadable = await db.query(`SELECT subject, data FROM ${SCHEMA}.events WHERE unreadable IS NOT NULL`);
    expect(unreadable.rows).toEqual([{ subject: 'strata.evt.secgroup.group.sg-junk', data: null }]);
    // A guard against a hang, not a measure: 351 s on a quiet machine, 1,026 s beside the compose lab's test.
  }, 2_400_000);

  it('a rebuild from position 1, with projectors running, gives identical tables (a hash of every table)', async () => {
    const before = await modelHashes(db, SCHEMA);
    const last = await checkpoint();
    await rebuildModel(db, SCHEMA);
    expect(await checkpoint()).toBe(0);
    await waitFor(async () => (await checkpoint()) === last, { timeoutMs: 120_000, intervalMs: 50, message: 'the rebuilt model to catch up' });
    const after = await modelHashes(db, SCHEMA);
    expect(after).toEqual(before);
    expect(Object.keys(after)).toHaveLength(modelTables().length + 1);
  }, 300_000);

  it("the auditors' SQL of docs/pg-read-model.md answers from the model what the log says", async () => {
    const doc = readFileSync(DOC, 'utf8');
    const query = (name: string): string => {
      const m = new RegExp('```sql name=' + name + '\\n([\\s\\S]*?)```').exec(doc);
      if (!m) throw new Error(`no query ${name} in docs/pg-read-model.md`);
      return m[1]!;
    };
    const weekAgo = Date.now() - 7 * 86_400_000;
    // Every security-group change by bob (all of this test's events are this week's).
    const sg = await db.query<{ security_group: string; position: string; reason: string | null }>(query('security-group-changes-by-actor'), ['bob']);
    const bobs = events.filter((e) => e.aggregate.context === 'secgroup' && e.aggregate.type === 'group' && !e.unreadable && e.actor === 'bob' && Date.parse(e.storedAt) >= weekAgo);
    expect(bobs.length).toBeGreaterThan(0);
    expect(sg.rows.map((r) => [r.security_group, Number(r.position)])).toEqual(bobs.map((e) => [e.aggregate.id, e.seq]));

    // The ports of tenant-a at the time of a position in the middle of the log.
    const at = events[Math.floor(events.length / 2)]!.storedAt;
    const ports = await db.query<{ port: string }>(query('ports-of-tenant-at'), ['tenant-a', at]);
    const live = new Set<string>();
    for (const e of events) {
      if (Date.parse(e.storedAt) > Date.parse(at) || e.tenant !== 'tenant-a') continue;
      const portId = (e.data as { portId?: string } | null)?.portId;
      if (e.type === 'ipam.PortCreated') live.add(portId!);
      if (e.type === 'ipam.PortDeleted') live.delete(portId!);
    }
    expect(live.size).toBeGreaterThan(0);
    expect(ports.rows.map((r) => r.port)).toEqual([...live].sort());

    // Who released a floating IP.
    const released = events.find((e) => e.type === 'ipam.FloatingIpReleased')!;
    const fipId = (released.data as { floatingIpId: string }).floatingIpId;
    const who = await db.query<{ actor: string; position: string; reason: string }>(query('who-released-floating-ip'), [fipId]);
    expect(who.rows.map((r) => [r.actor, Number(r.position), r.reason])).toEqual([[released.actor, released.seq, released.reason]]);
  });

  it("PostgreSQL ends the active projector's session: another takes over, nothing is lost or written twice", async () => {
    const holder = async (): Promise<number | undefined> => {
      const r = await db.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted`);
      return r.rows[0]?.pid;
    };
    const before = await waitFor(holder, { message: 'the advisory lock to be held' });
    const r = await db.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [before]);
    expect(r.rows[0]!.ok).toBe(true);
    // The lock is held again, by another session (the same process reconnected, or a standby).
    await waitFor(async () => ((await holder()) ?? before) !== before, { timeoutMs: 30_000, message: 'a new holder of the lock' });
    for (let i = 0; i < 60; i++) await step(100_000 + i);
    const last = await store.lastSeq();
    expect(last).toBe(written);
    await waitFor(async () => (await checkpoint()) === last, { timeoutMs: 60_000, intervalMs: 50, message: `the model to reach position ${last}` });
    const c = await db.query<{ n: string; hi: string }>(`SELECT count(*) n, max(seq) hi FROM ${SCHEMA}.events`);
    expect(c.rows[0]).toEqual({ n: String(last), hi: String(last) });
  });
});
