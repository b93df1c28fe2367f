import { startNatsServer } from '@strata/testing';
import { connect, nanos } from 'nats';
import { JetStreamEventStore } from './dist/index.js';
const srv = await startNatsServer();
const nc = await connect({ servers: srv.url });
const jsm = await nc.jetstreamManager();
await jsm.streams.add({ name: 'X', subjects: ['x.evt.>'], max_age: nanos(3600_000) });
await JetStreamEventStore.open(nc, { streamName: 'X', subjectPrefix: 'x.evt' });
let c = (await jsm.streams.info('X')).config; console.log('after open', c.deny_delete, c.deny_purge, c.max_age);
for (const [n, patch] of [['deny_delete false', { deny_delete: false }], ['max_age 1s', { max_age: nanos(1000) }], ['max_msgs 1', { max_msgs: 1 }], ['allow_rollup', { allow_rollup_hdrs: true }], ['subjects', { subjects: ['y.>'] }]]) {
  try { await jsm.streams.update('X', { ...c, ...patch }); console.log(n, 'ACCEPTED'); c = (await jsm.streams.info('X')).config; } catch (e) { console.log(n, 'refused:', e.message); }
}
await nc.close(); await srv.stop();
