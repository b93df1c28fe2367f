import { startNatsServer, waitFor } from '@strata/testing';
import { connect } from 'nats';
import { JetStreamEventStore, SnapshotStore } from './dist/index.js';
import { OrderedReader } from './dist/ordered-reader.js';
const srv = await startNatsServer();
const nc = await connect({ servers: srv.url });
const store = await JetStreamEventStore.open(nc);
const ref = { context: 'a', type: 'b', id: 'c' };
const ev = (id) => ({ id, type: 'x', version: 1, aggregate: ref, tenant: 't', actor: 'a', correlationId: 'c', causationId: null, occurredAt: 'x', data: {} });
const r = new OrderedReader(nc.jetstream(), { stream: 'STRATA_EVENTS', liveExpiresMs: 1000 });
const got = [];
const loop = (async () => { for await (const c of r.batches()) got.push(...c.map(m => m.seq)); })();
await new Promise(r => setTimeout(r, 3500)); // scratch only: let 3 live fetches expire
await store.append(ref, ev('1'), { expectedVersion: 'any' });
await waitFor(() => got.length === 1); console.log('live after expiries ok', got);
await r.close(); await loop;
// snapshot 100MB
const snaps = await SnapshotStore.open(nc);
const state = { items: Array.from({ length: 800_000 }, (_, i) => ({ id: 'port-' + i, mac: 'fa:16:3e:00:00:01', ips: ['10.0.0.' + (i % 255)], tags: ['a', 'b', 'c'], desc: 'x'.repeat(40) })) };
let t = Date.now();
await snaps.save('big', { seq: 1, schemaVersion: 1, state });
console.log('save', (Date.now() - t) / 1000, 's', 'rss', Math.round(process.memoryUsage().rss / 1e6));
t = Date.now();
const l = await snaps.load('big');
console.log('load', (Date.now() - t) / 1000, 's', l.state.items.length, 'rss', Math.round(process.memoryUsage().rss / 1e6));
const info = await (await nc.jetstream().views.os('strata-snapshots')).info('big'); console.log('size MB', info.size / 1e6, 'chunks', info.chunks);
await nc.close(); await srv.stop();
