import { startNatsServer } from '@strata/testing';
import { connect, DeliverPolicy } from 'nats';
import { JetStreamEventStore } from './dist/index.js';
import { OrderedReader } from './dist/ordered-reader.js';
const N = Number(process.argv[2] ?? 200000);
const srv = await startNatsServer();
const nc = await connect({ servers: srv.url });
const store = await JetStreamEventStore.open(nc);
const js = nc.jetstream();
const ev = (i) => { const ref = { context: 'ipam', type: 'network', id: 'n' + (i % 1000) }; return [ref, { id: 'e' + i, type: 'PortCreated', version: 1, aggregate: ref, tenant: 't1', actor: 'svc', correlationId: 'c' + i, causationId: null, occurredAt: '2024-01-01T00:00:00.000Z', data: { port: i, mac: 'fa:16:3e:00:00:01', ips: ['10.0.0.1'] } }]; };
const W = 5000;
for (let i = 0; i < N; i += W) { const ps = []; for (let j = i; j < Math.min(N, i + W); j++) { const [r, e] = ev(j); ps.push(store.append(r, e, { expectedVersion: 'any' })); } await Promise.all(ps); }
async function time(label, f) { const t = Date.now(); const n = await f(); const dt = (Date.now() - t) / 1000; console.log(label, n, Math.round(n / dt), 'msg/s'); }
for (let rep = 0; rep < 3; rep++) {
await time('raw consume (no decode)', async () => { const c = await js.consumers.get('STRATA_EVENTS', {}); const it = await c.consume({ max_messages: 5000 }); let n = 0; for await (const m of it) { n++; if (m.info.pending === 0) break; } await c.delete(); return n; });
await time('raw consume + JSON.parse', async () => { const c = await js.consumers.get('STRATA_EVENTS', {}); const it = await c.consume({ max_messages: 5000 }); let n = 0; for await (const m of it) { JSON.parse(new TextDecoder().decode(m.data)); n++; if (m.info.pending === 0) break; } await c.delete(); return n; });
for (const batch of [500, 2000, 5000, 10000]) {
  await time('reader batch ' + batch + ' (no decode)', async () => { const r = new OrderedReader(js, { stream: 'STRATA_EVENTS', fromSeq: 1, endSeq: N, batch }); let n = 0; for await (const c of r.batches()) n += c.length; return n; });
}
await time('store.read', async () => { let n = 0; for await (const e of store.read()) n++; return n; });
}
await nc.close(); await srv.stop();
