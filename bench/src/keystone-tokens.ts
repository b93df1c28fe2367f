/**
 * Keystone token validation: what a request costs with a token the
 * validator has to ask Keystone about (uncached) against one it answers
 * from its cache, in the same run; the gRPC API's static tokens are the
 * baseline of the end-to-end part.
 *
 *   npm run -s -w @strata/bench keystone-tokens            (REQUESTS=200)
 *   QUICK=1 npm run -w @strata/bench keystone-tokens       (REQUESTS=50; under 2 minutes)
 *
 * A real Keystone (libs/testing startKeystone: Debian's keystone 22 under
 * uwsgi, sqlite, in-memory cache) and, for the end-to-end part, the real
 * control plane (startControlPlane: nats-server with the production users,
 * ipam, secgroup, nat, chaining, status, audit and the api as processes),
 * the api configured with KEYSTONE_URL and a service user.
 *
 * 1. The validator alone (KeystoneValidator.validate): REQUESTS distinct
 *    tokens validated once each (every one asks Keystone: GET
 *    /v3/auth/tokens), then the same tokens again (every one a cache hit).
 * 2. One gRPC ListNetworks per request, one at a time, with: a static token;
 *    one Keystone token the api has validated before (cached); a fresh
 *    Keystone token for every request (uncached: the api asks Keystone).
 * Latency is per request, client side; sequential, so it is latency, not
 * throughput.
 *
 * Last line: ratio = p50 of a gRPC request with an uncached Keystone token ÷
 * p50 of the same request with a cached one (what a token's first use costs
 * a client; the cached token against the static one is on the same line).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, credentials } from '@grpc/grpc-js';
import { KeystoneValidator, keystoneValidatorConfigSchema } from '@strata/identity';
import { startControlPlane } from '@strata/lab';
import { loadStrataProto } from '@strata/proto';
import { freePort, startKeystone, waitFor, type KeystoneHandle, type ProjectUser } from '@strata/testing';
import { fmt, intEnv, log, percentile, printRatio, QUICK, runPool, table } from './support/common.js';
import { runHeader } from './support/overlay.js';

const REQUESTS = intEnv('REQUESTS', QUICK ? 50 : 200, 10, 100_000);

interface Row {
  what: string;
  latencies: Float64Array;
}

/** `n` tokens of user `u`, one after the other (Keystone runs one worker thread). */
async function issueMany(ks: KeystoneHandle, u: ProjectUser, n: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) tokens.push((await ks.issueToken({ user: u.user.name, password: u.password, project: u.project.name })).token);
  return tokens;
}

runHeader('Keystone token validation: cached vs uncached', { REQUESTS, QUICK: QUICK ? 1 : 0 });
const rows: Row[] = [];
const ks = await startKeystone();
const dir = mkdtempSync(join(tmpdir(), 'strata-bench-keystone-'));
try {
  log(`Keystone on ${ks.url}`);
  const svc = await ks.createServiceUser('strata-bench');
  const member = await ks.createProjectUser('bench-proj', 'bench-user', 'member');

  // 1. The validator alone.
  const validator = new KeystoneValidator(
    keystoneValidatorConfigSchema.parse({ url: ks.url, serviceUser: svc.user.name, servicePassword: svc.password, cacheMaxEntries: REQUESTS * 2 }),
  ).start();
  await waitFor(() => validator.statistics().revocationsPolledAt !== undefined, { timeoutMs: 30_000, message: 'the first revocation poll' });
  log(`issuing ${REQUESTS} tokens`);
  const tokens = await issueMany(ks, member, REQUESTS);
  rows.push({ what: 'validator: uncached (asks Keystone)', latencies: await runPool(REQUESTS, 1, async (i) => void (await validator.validate(tokens[i]!))) });
  rows.push({ what: 'validator: cached', latencies: await runPool(REQUESTS, 1, async (i) => void (await validator.validate(tokens[i]!))) });
  const stats = validator.statistics();
  if (stats.keystoneValidations !== REQUESTS || stats.cacheHits !== REQUESTS) throw new Error(`expected ${REQUESTS} validations and ${REQUESTS} hits, got ${JSON.stringify(stats)}`);
  await validator.stop();

  // 2. Through the gRPC API.
  const apiAddr = `127.0.0.1:${await freePort()}`;
  log('starting the control plane');
  const cp = await startControlPlane(dir, ['bench'], () => undefined, {
    natsPort: await freePort(),
    apiAddr,
    apiEnv: { KEYSTONE_URL: ks.url, KEYSTONE_SERVICE_USER: svc.user.name, KEYSTONE_SERVICE_PASSWORD: svc.password, KEYSTONE_TOKEN_CACHE_SIZE: String(REQUESTS * 4) },
  });
  try {
    const v1 = loadStrataProto().strata.v1;
    const networks = new v1.NetworkService(apiAddr, credentials.createInsecure(), { 'grpc.service_config_disable_resolution': 1 });
    const list = (token: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const md = new Metadata();
        md.set('authorization', `Bearer ${token}`);
        networks.ListNetworks({}, md, { deadline: new Date(Date.now() + 30_000) }, (err) => (err ? reject(err) : resolve()));
      });
    const cached = (await issueMany(ks, member, 1))[0]!;
    log(`issuing ${REQUESTS} more tokens`);
    const fresh = await issueMany(ks, member, REQUESTS);
    // Warm up: the channel, the api's service token and first revocation poll, the cached token.
    await waitFor(() => list(cached).then(() => true), { timeoutMs: 60_000, message: 'the api accepting a Keystone token' });
    for (let i = 0; i < 20; i++) await list(cp.tokens['bench']!);
    rows.push({ what: 'gRPC ListNetworks: static token', latencies: await runPool(REQUESTS, 1, () => list(cp.tokens['bench']!)) });
    rows.push({ what: 'gRPC ListNetworks: Keystone token, cached', latencies: await runPool(REQUESTS, 1, () => list(cached)) });
    rows.push({ what: 'gRPC ListNetworks: Keystone token, uncached', latencies: await runPool(REQUESTS, 1, (i) => list(fresh[i]!)) });
    networks.close();
  } finally {
    await cp.stop();
  }
} finally {
  await ks.stop();
  rmSync(dir, { recursive: true, force: true });
}

const p = (r: Row, q: number): number => percentile(r.latencies, q);
table(
  ['requests', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms'],
  rows.map((r) => [r.what, String(r.latencies.length), fmt(p(r, 50), 3), fmt(p(r, 90), 3), fmt(p(r, 99), 3), fmt(r.latencies.reduce((a, b) => a + b, 0) / r.latencies.length, 3)]),
);
const p50 = (what: string): number => p(rows.find((r) => r.what === what)!, 50);
const ratio = (a: string, b: string): string => fmt(p50(a) / p50(b), 1);
console.log(`\nvalidator, uncached / cached (p50): ${ratio('validator: uncached (asks Keystone)', 'validator: cached')}x`);
const [uncached, cached, staticToken] = ['gRPC ListNetworks: Keystone token, uncached', 'gRPC ListNetworks: Keystone token, cached', 'gRPC ListNetworks: static token'].map(p50) as [number, number, number];
printRatio(uncached / cached, {
  measured: `gRPC ListNetworks p50, uncached Keystone token ${fmt(uncached, 1)} ms`,
  baseline: `cached ${fmt(cached, 1)} ms`,
  goal: 'recorded',
  also: `cached ÷ static token ${fmt(cached / staticToken, 2)}`,
});
