import { startNatsServer } from '@strata/testing';
import { connect } from 'nats';
import { JetStreamEventStore } from './dist/index.js';
const N = Number(process.argv[2] ?? 1_000_000);
const srv = await startNatsServer();
const nc = await connect({ servers: srv.url });
const store = await JetStreamEventStore.open(nc);
const ev = (i) => { const ref = { context: 'ipam', type: 'network', id: 'n' + (i % 1000) }; return [ref, { id: 'e' + i, type: 'PortCreated', version: 1, aggregate: ref, tenant: 't1', actor: 'svc', correlationId: 'c' + i, causationId: null, occurredAt: '2024-01-01T00:00:00.000Z', data: { port: i, mac: 'fa:16:3e:00:00:01', ips: ['10.0.0.1'] } }]; };
let t = Date.now();
const W = 2000;
for (let i = 0; i < N; i += W) {
  const ps = [];
  for (let j = i; j < Math.min(N, i + W); j++) { const [r, e] = ev(j); ps.push(store.append(r, e, { expectedVersion: 'any' })); }
  await Promise.all(ps);
}
console.log('append', N, (Date.now() - t) / 1000, 's');
const mem0 = process.memoryUsage().rss;
t = Date.now(); let n = 0, last = 0, sum = 0;
for await (const e of store.read()) { n++; if (e.seq !== last + 1) throw new Error('gap ' + last + ' ' + e.seq); last = e.seq; sum += e.data.port; }
const dt = (Date.now() - t) / 1000;
console.log('read', n, dt, 's', Math.round(n / dt), 'ev/s', 'rss MB', Math.round(process.memoryUsage().rss / 1e6), 'from', Math.round(mem0 / 1e6));
t = Date.now(); n = 0;
for await (const e of store.read({ subject: 'strata.evt.ipam.network.n7' })) n++;
console.log('filtered read', n, (Date.now() - t) / 1000, 's');
t = Date.now();
const ra = await store.readAggregate({ context: 'ipam', type: 'network', id: 'n8' });
console.log('readAggregate', ra.events.length, ra.version, (Date.now() - t) / 1000, 's');
// slow consumer: memory should stay bounded
t = Date.now(); n = 0;
for await (const e of store.read({ toSeq: 20000 })) { n++; if (n % 1000 === 0) await new Promise(r => setTimeout(r, 50)); }
console.log('slow read', n, (Date.now() - t) / 1000);
console.log('consumers left', (await (await nc.jetstreamManager()).streams.info('STRATA_EVENTS')).state.consumer_count);
await nc.close(); await srv.stop();
