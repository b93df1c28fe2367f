import { startNatsServer, waitFor } from '@strata/testing';
import { connect, headers } from 'nats';
import { JetStreamEventStore, protectedApiSubjects } from './dist/index.js';
const deny = JSON.stringify(protectedApiSubjects());
const srv = await startNatsServer({ config: `
accounts { STRATA: { jetstream: enabled, users: [
  { user: admin, password: admin },
  { user: svc, password: svc, permissions: { publish: { allow: [">"], deny: ${deny} } } }
] } }` });
const admin = await connect({ servers: srv.url, user: 'admin', pass: 'admin' });
const svc = await connect({ servers: srv.url, user: 'svc', pass: 'svc' });
const store = await JetStreamEventStore.open(admin);
const ref = { context: 'ipam', type: 'network', id: 'n1' };
const ev = (id) => ({ id, type: 'x', version: 1, aggregate: ref, tenant: 't', actor: 'a', correlationId: 'c', causationId: null, occurredAt: new Date().toISOString(), data: {} });
console.log(await store.append(ref, ev('e1'), { expectedVersion: 'none' }));
const svcStore = await JetStreamEventStore.open(svc); console.log('svc open ok');
const jsm = await svc.jetstreamManager();
for (const [n, f] of [['purge', () => jsm.streams.purge('STRATA_EVENTS')], ['delete', () => jsm.streams.delete('STRATA_EVENTS')], ['msgdel', () => jsm.streams.deleteMessage('STRATA_EVENTS', 1)], ['update', () => jsm.streams.update('STRATA_EVENTS', { deny_purge: false })]]) {
  const t = Date.now();
  try { console.log(n, 'ok?!', await f()); } catch (e) { console.log(n, 'refused', e.code, e.message, Date.now() - t, 'ms'); }
}
console.log('svc closed?', svc.isClosed());
// duplicate window expiry
const s2 = await JetStreamEventStore.open(admin, { streamName: 'W', subjectPrefix: 'w.evt', duplicateWindowMs: 100 });
const r2 = { context: 'c', type: 't', id: 'i' };
const e = { ...ev('d1'), aggregate: r2 };
console.log(await s2.append(r2, e, { expectedVersion: 'none' }));
console.log(await s2.append(r2, { ...ev('d2'), aggregate: r2 }, { expectedVersion: 1 }));
const js = admin.jetstream();
const t0 = Date.now();
await waitFor(async () => { try { const a = await js.publish('w.evt.c.t.i', new Uint8Array(), { msgID: 'd1', expect: { lastSubjectSequence: 0 } }); return false; } catch (err) { return err.api_error?.err_code === 10071; } }, { intervalMs: 20 });
console.log('window expired after', Date.now() - t0);
console.log(await s2.append(r2, e, { expectedVersion: 'none' }));
try { await s2.append(r2, { ...ev('d3'), aggregate: r2 }, { expectedVersion: 1 }); } catch (err) { console.log(err.name, err.message); }
console.log((await s2.readAggregate(r2)).events.map(x => [x.seq, x.id, x.storedAt]));
const si = await (await admin.jetstreamManager()).streams.info('W'); console.log(si.config.duplicate_window, si.state.messages);
await admin.close(); await svc.close(); await srv.stop();
