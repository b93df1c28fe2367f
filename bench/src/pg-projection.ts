/**
 * PostgreSQL read model: projection rate against writing the same rows
 * straight into PostgreSQL, and against the raw JetStream read rate, in the
 * same run, on the same log.
 *
 *   npm run -w @strata/bench pg-projection                 (EVENTS=100000 BATCHES=100,500,2000)
 *   QUICK=1 npm run -w @strata/bench pg-projection         (EVENTS=20000 BATCHES=500; under 2 minutes)
 *
 * Real nats-server with the production users, a throwaway PostgreSQL 15
 * cluster (startPostgres; fsync off, as in the tests). EVENTS events of the
 * kinds auditors ask about (security group rules, ports, floating IPs; each
 * makes one or two version rows) are appended first, then:
 *
 *   raw read      a durable pull consumer (explicit ack) reads and decodes
 *                 every event and acknowledges it: the projector's work
 *                 without PostgreSQL.
 *   projection    PgProjector (as the service runs it, user pg-projector)
 *                 from position 1 until the checkpoint is at the end, for
 *                 each batch size in BATCHES; a fresh schema each time.
 *   direct write  the baseline of the last line: the rows the projection
 *                 made (events and every version table, read back from its
 *                 schema after the run with the default batch, 500, or the
 *                 first of BATCHES) written from the bench into a fresh
 *                 schema with the same DDL (ensureSchema: same indexes,
 *                 same foreign keys), one multi-row INSERT per table per
 *                 BATCH rows (json_populate_recordset, one parameter), one
 *                 transaction each. It is fair because it is the
 *                 projector's PostgreSQL work alone, done as cheaply as a
 *                 client can: the same rows into the same indexes, without
 *                 the JetStream read, the decoding, the row building, the
 *                 UPDATE closing each previous version and the checkpoint.
 *
 * Last line: ratio = projection events/s (that batch) ÷ direct write
 * events/s (the same rows; how close the projector gets to PostgreSQL's own
 * insert rate).
 */
import { AckPolicy, DeliverPolicy } from 'nats';
import pg from 'pg';
import { decodeEvent, JetStreamEventStore, type AggregateRef } from '@strata/eventlog';
import { provisionStreams } from '@strata/lab';
import { ensureSchema, modelTables, PgProjector } from '@strata/pg-projector';
import { startPostgres, startStrataNats } from '@strata/testing';
import { fmt, intEnv, intListEnv, log, machine, printRatio, QUICK, runPool, table } from './support/common.js';

const EVENTS = intEnv('EVENTS', QUICK ? 20_000 : 100_000, 100, 2_000_000);
const BATCHES = intListEnv('BATCHES', QUICK ? [500] : [100, 500, 2000]);
if (BATCHES.length === 0) throw new Error('BATCHES: at least one batch size');
/** The batch whose rows the direct write repeats and whose rate the last line reports. */
const HEADLINE_BATCH = BATCHES.includes(500) ? 500 : BATCHES[0]!;

/**
 * The baseline: the rows `from` holds, written from the bench into a fresh
 * schema `to` (same DDL), one multi-row INSERT per `batch` rows, one
 * transaction each. Only the writes are timed (the rows are read first).
 */
async function directWrite(db: pg.Client, from: string, to: string, batch: number): Promise<{ ms: number; rows: number }> {
  await ensureSchema(db, to);
  const tables: Array<{ table: string; rows: unknown[] }> = [];
  // events first: the version tables refer to it.
  for (const { table, orderBy } of modelTables()) tables.push({ table, rows: (await db.query(`SELECT * FROM ${from}.${table} ORDER BY ${orderBy}`)).rows });
  const t0 = performance.now();
  let rows = 0;
  for (const { table, rows: all } of tables) {
    for (let i = 0; i < all.length; i += batch) {
      const chunk = all.slice(i, i + batch);
      await db.query(`INSERT INTO ${to}.${table} SELECT * FROM json_populate_recordset(NULL::${to}.${table}, $1::json)`, [JSON.stringify(chunk)]);
      rows += chunk.length;
    }
  }
  return { ms: performance.now() - t0, rows };
}

function eventOf(i: number): { ref: AggregateRef; type: string; data: unknown } {
  const group = `sg-${i % 500}`;
  switch (i % 4) {
    case 0:
      return { ref: { context: 'secgroup', type: 'group', id: group }, type: 'secgroup.RuleAdded', data: { groupId: group, rule: { id: `r${i}`, direction: 'ingress', protocol: 'tcp', portMin: i % 1000, portMax: i % 1000, remoteIpPrefix: '10.0.0.0/8' } } };
    case 1:
      return { ref: { context: 'secgroup', type: 'group', id: group }, type: 'secgroup.RuleRemoved', data: { groupId: group, ruleId: `r${i - 1}` } };
    case 2:
      return { ref: { context: 'ipam', type: 'network', id: `net-${i % 200}` }, type: 'ipam.PortCreated', data: { portId: `port-${i}`, networkId: `net-${i % 200}`, mac: 'fa:16:3e:00:00:01', fixedIps: [{ subnetId: 's1', ip: '10.0.0.5' }] } };
    default:
      return { ref: { context: 'ipam', type: 'cloud', id: 'cloud' }, type: 'ipam.FloatingIpAllocated', data: { floatingIpId: `fip-${i}`, poolId: 'pool-1', address: '203.0.113.7' } };
  }
}

async function main(): Promise<void> {
  console.log(`# pg-projection  EVENTS=${EVENTS} BATCHES=${BATCHES.join(',')} QUICK=${QUICK ? 1 : 0}`);
  log('machine', machine());
  const [nats, pgc] = await Promise.all([startStrataNats(), startPostgres()]);
  try {
    const admin = await nats.connect('admin');
    await provisionStreams(admin, { hosts: [] });
    const store = await JetStreamEventStore.open(admin);
    const t0 = performance.now();
    await runPool(EVENTS, 64, async (i) => {
      const { ref, type, data } = eventOf(i);
      await store.append(ref, { id: `e-${i}`, type, version: 1, aggregate: ref, tenant: `tenant-${i % 10}`, actor: `user-${i % 7}`, correlationId: `c-${i}`, causationId: null, occurredAt: new Date().toISOString(), data }, { expectedVersion: 'any' });
    });
    log(`appended ${EVENTS} events in ${fmt(performance.now() - t0)} ms`);

    // Raw read: the same consumer shape as the projector's, decode and ack, no PostgreSQL.
    const jsm = await admin.jetstreamManager();
    await jsm.consumers.add('STRATA_EVENTS', { durable_name: 'bench-raw', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: 'strata.evt.>', max_ack_pending: 2000 });
    const r0 = performance.now();
    const messages = await (await admin.jetstream().consumers.get('STRATA_EVENTS', 'bench-raw')).consume({ max_messages: 1000 });
    let read = 0;
    for await (const m of messages) {
      decodeEvent(m.data, { seq: m.seq, subject: m.subject, storedAt: new Date(Math.floor(m.info.timestampNanos / 1e6)).toISOString() });
      m.ack();
      if (++read === EVENTS) break;
    }
    const rawMs = performance.now() - r0;
    log(`raw read ${fmt(rawMs)} ms`);

    const rows: string[][] = [['raw JetStream read (pull, decode, ack)', '—', fmt(rawMs), fmt((EVENTS / rawMs) * 1000), '1.00', '']];
    let headlineMs = NaN;
    const projectorNc = await nats.connect('pg-projector');
    const db = new pg.Client({ connectionString: pgc.url });
    await db.connect();
    for (const batch of BATCHES) {
      const schema = `bench_${batch}`;
      const p0 = performance.now();
      const projector = new PgProjector({ nc: projectorNc, pgUrl: pgc.url, schema, stream: 'STRATA_EVENTS', durable: 'pg-projector', filter: 'strata.evt.>', batch, log: { info: () => undefined, warn: (f, m) => log(m, f) } });
      projector.start();
      for (;;) {
        const r = await db.query<{ last_seq: string }>(`SELECT last_seq FROM ${schema}.checkpoint`).catch(() => ({ rows: [] as Array<{ last_seq: string }> }));
        if (Number(r.rows[0]?.last_seq ?? 0) >= EVENTS) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      const ms = performance.now() - p0;
      await projector.stop();
      const versions = await db.query<{ n: string }>(`SELECT (SELECT count(*) FROM ${schema}.versions_security_group) + (SELECT count(*) FROM ${schema}.versions_port) + (SELECT count(*) FROM ${schema}.versions_network) + (SELECT count(*) FROM ${schema}.versions_floating_ip) + (SELECT count(*) FROM ${schema}.versions_pool) AS n`);
      log(`projection, batch ${batch}: ${fmt(ms)} ms, ${versions.rows[0]!.n} version rows`);
      rows.push([`projection into PostgreSQL`, String(batch), fmt(ms), fmt((EVENTS / ms) * 1000), fmt(rawMs / ms, 2), '']);
      if (batch === HEADLINE_BATCH) headlineMs = ms;
    }
    const direct = await directWrite(db, `bench_${HEADLINE_BATCH}`, 'bench_direct', HEADLINE_BATCH);
    log(`direct write of batch ${HEADLINE_BATCH}'s ${direct.rows} rows: ${fmt(direct.ms)} ms`);
    rows.push([`direct write of the same ${fmt(direct.rows)} rows (multi-row INSERT)`, String(HEADLINE_BATCH), fmt(direct.ms), fmt((EVENTS / direct.ms) * 1000), fmt(rawMs / direct.ms, 2), '(baseline of the ratio)']);
    await db.end();
    console.log(`\n${fmt(EVENTS)} events; PostgreSQL 15, fsync off; one nats-server; the projector in the bench process\n`);
    table(['reader', 'batch', 'ms', 'events/s', 'rate vs raw', 'note'], rows);
    const projRate = (EVENTS / headlineMs) * 1000;
    const directRate = (EVENTS / direct.ms) * 1000;
    printRatio(projRate / directRate, {
      measured: `projection ${fmt(projRate)} events/s (batch ${HEADLINE_BATCH})`,
      baseline: `the same rows written straight ${fmt(directRate)} events/s`,
      goal: 'recorded',
      also: `raw JetStream read ${fmt((EVENTS / rawMs) * 1000)} events/s`,
    });
  } finally {
    await nats.stop();
    await pgc.stop();
  }
}

await main();
