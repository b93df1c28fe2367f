/**
 * What the Neutron REST layer adds (issue 17): the same operations through
 * the Neutron API and through the gRPC API, in the same run, on the same
 * control plane. (Token validation, cached vs uncached: keystone-tokens.ts.)
 *
 *   npm run -s -w @strata/bench neutron-rest            (PORTS=1000 CONCURRENCY=8)
 *   QUICK=1 npm run -w @strata/bench neutron-rest       (PORTS=200; under 2 minutes)
 *
 * Control plane: startControlPlane (nats-server with the production users,
 * ipam x2, secgroup, nat, chaining, status, audit and the gRPC API as
 * processes), a real Keystone (startKeystone), and the Neutron service as
 * its own process (support/neutron-child.ts) validating tokens with the
 * KeystoneValidator. Each API gets its own tenant and network with a /20
 * subnet; then, per API:
 *   create    PORTS ports, CONCURRENCY in flight (POST /v2.0/ports vs
 *             CreatePort), each answered once written: latency percentiles
 *             and ports/s;
 *   list      all PORTS ports of the network, 10 times (GET
 *             /v2.0/ports?network_id=… in one answer vs ListPorts paged
 *             at the API's largest page).
 * The Neutron requests carry one Keystone token, validated once and then
 * answered from the validator's cache (as a client reusing its token is).
 *
 * Last line: ratio = p50 of Neutron POST /v2.0/ports ÷ p50 of gRPC
 * CreatePort (what the REST layer adds to a port create; the list's ratio is
 * on the same line).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, type requestCallback } from '@grpc/grpc-js';
import { startControlPlane } from '@strata/lab';
import { loadStrataProto } from '@strata/proto';
import { freePort, startKeystone } from '@strata/testing';
import { fmt, intEnv, log, percentile, printRatio, QUICK, runPool, table } from './support/common.js';
import { runHeader } from './support/overlay.js';

const PORTS = intEnv('PORTS', QUICK ? 200 : 1000, 10, 100_000);
const CONCURRENCY = intEnv('CONCURRENCY', 8, 1, 256);
const LISTS = 10;

type Json = Record<string, any>;
interface Row {
  what: string;
  latencies: Float64Array;
  seconds: number;
  count: number;
}

function rpc<T>(invoke: (cb: requestCallback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => invoke((err, res) => (err ? reject(err) : resolve(res as T))));
}

async function timed(what: string, count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<Row> {
  const t0 = performance.now();
  const latencies = await runPool(count, concurrency, (i) => task(i));
  const row = { what, latencies, seconds: (performance.now() - t0) / 1000, count };
  log(`${what}: ${fmt(count / row.seconds, 1)}/s, p50 ${fmt(percentile(latencies, 50), 1)} ms`);
  return row;
}

runHeader('the Neutron REST layer vs the gRPC API', { PORTS, CONCURRENCY, QUICK: QUICK ? 1 : 0 });
const dir = mkdtempSync(join(tmpdir(), 'strata-bench-neutron-'));
const keystone = await startKeystone();
let child: ChildProcess | undefined;
const cp = await startControlPlane(dir, ['bench'], () => undefined, { natsPort: await freePort(), apiAddr: `127.0.0.1:${await freePort()}`, hostview: true });
const rows: Row[] = [];
try {
  const service = await keystone.createServiceUser('neutron-bench');
  child = spawn(process.execPath, [fileURLToPath(new URL('./support/neutron-child.js', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      NATS_URL: cp.natsUrl,
      NATS_PASSWORD: cp.passwords['neutron']!,
      STRATA_COMMAND_SIGNING_KEY: cp.commandKeys.signingKey,
      KEYSTONE_URL: keystone.url,
      KEYSTONE_SERVICE_USER: service.user.name,
      KEYSTONE_SERVICE_PASSWORD: service.password,
    },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child!.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child!.once('exit', (code) => reject(new Error(`the Neutron service exited (${code})`)));
  });
  const user = await keystone.createProjectUser('bench-neutron', 'bench', 'member');
  const memberToken = (await keystone.issueToken({ user: 'bench', password: user.password, project: 'bench-neutron' })).token;
  const rest = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const res = await fetch(`${url}/v2.0/${path}`, {
      method,
      headers: { 'X-Auth-Token': memberToken, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as Json) : {};
  };

  const v1 = loadStrataProto().strata.v1;
  const md = new Metadata();
  md.set('authorization', `Bearer ${cp.tokens['bench']!}`);
  const nets = new v1.NetworkService(cp.apiAddr, credentials.createInsecure());
  const subnets = new v1.SubnetService(cp.apiAddr, credentials.createInsecure());
  const ports = new v1.PortService(cp.apiAddr, credentials.createInsecure());

  // One network with a /20 per API.
  const rNet = (await rest('POST', 'networks', { network: { name: 'bench' } }))['network']['id'] as string;
  await rest('POST', 'subnets', { subnet: { network_id: rNet, cidr: '10.16.0.0/20', ip_version: 4 } });
  const gNet = (await rpc<{ id: string }>((cb) => nets.CreateNetwork({ name: 'bench' }, md, cb))).id;
  await rpc((cb) => subnets.CreateSubnet({ networkId: gNet, cidr: '10.16.0.0/20' }, md, cb));

  // Warm both paths (connections, the token cache, JIT) with a few ports each, not counted.
  for (let i = 0; i < 5; i++) {
    await rest('POST', 'ports', { port: { network_id: rNet, name: `warm-${i}` } });
    await rpc((cb) => ports.CreatePort({ networkId: gNet, name: `warm-${i}` }, md, cb));
  }
  rows.push(await timed('gRPC CreatePort', PORTS, CONCURRENCY, async (i) => void (await rpc((cb) => ports.CreatePort({ networkId: gNet, name: `p${i}` }, md, cb)))));
  rows.push(await timed('Neutron POST /v2.0/ports', PORTS, CONCURRENCY, async (i) => void (await rest('POST', 'ports', { port: { network_id: rNet, name: `p${i}` } }))));

  const total = PORTS + 5;
  rows.push(
    await timed(`gRPC ListPorts (${total} ports, paged)`, LISTS, 1, async () => {
      let n = 0;
      let after = '';
      for (;;) {
        const page = await rpc<{ items: unknown[]; next: string }>((cb) => ports.ListPorts({ networkId: gNet, after, limit: 1000 }, md, cb));
        n += page.items.length;
        if (!page.next) break;
        after = page.next;
      }
      if (n !== total) throw new Error(`ListPorts gave ${n} ports, not ${total}`);
    }),
  );
  rows.push(
    await timed(`Neutron GET /v2.0/ports (${total} ports)`, LISTS, 1, async () => {
      const n = ((await rest('GET', `ports?network_id=${rNet}`))['ports'] as unknown[]).length;
      if (n !== total) throw new Error(`GET /v2.0/ports gave ${n} ports, not ${total}`);
    }),
  );
  nets.close();
  subnets.close();
  ports.close();
} finally {
  child?.kill('SIGTERM');
  await cp.stop();
  await keystone.stop();
  rmSync(dir, { recursive: true, force: true });
}

table(
  ['operation', 'count', 'per second', 'p50 ms', 'p90 ms', 'p99 ms'],
  rows.map((r) => [r.what, String(r.count), fmt(r.count / r.seconds, 1), fmt(percentile(r.latencies, 50), 1), fmt(percentile(r.latencies, 90), 1), fmt(percentile(r.latencies, 99), 1)]),
);
const p50 = (i: number): number => (rows[i] ? percentile(rows[i].latencies, 50) : NaN);
printRatio(p50(1) / p50(0), {
  measured: `Neutron POST /v2.0/ports p50 ${fmt(p50(1), 1)} ms`,
  baseline: `gRPC CreatePort p50 ${fmt(p50(0), 1)} ms`,
  goal: 'recorded',
  also: `port list, Neutron ÷ gRPC p50: ${fmt(p50(3) / p50(2), 2)}`,
});
