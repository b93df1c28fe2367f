import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServerHandle } from './http.js';
import { createMetrics } from './metrics.js';
import { Readiness } from './readiness.js';

describe('metrics and health server', () => {
  let server: HttpServerHandle | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(readiness = new Readiness()) {
    const metrics = createMetrics('ipam');
    server = await startHttpServer({ port: 0, registry: metrics.registry, readiness });
    const url = (path: string) => `http://${server?.host}:${server?.port}${path}`;
    return { metrics, readiness, url };
  }

  it('listens on loopback and reports the ephemeral port', async () => {
    await start();
    expect(server?.host).toBe('127.0.0.1');
    expect(server?.port).toBeGreaterThan(0);
  });

  it('serves the service registry as Prometheus text', async () => {
    const { metrics, url } = await start();
    metrics.counter('strata_test_total', 'a test counter', ['op']).inc({ op: 'create' }, 3);
    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('strata_test_total{op="create",service="ipam"} 3');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('answers /healthz while the process lives', async () => {
    const { url } = await start();
    const res = await fetch(url('/healthz'));
    expect(res.status).toBe(200);
  });

  it('flips /readyz with the readiness checks and names the failing ones', async () => {
    const readiness = new Readiness();
    const projection = readiness.flag('projection');
    readiness.register('nats', () => true);
    const { url } = await start(readiness);

    const before = await fetch(url('/readyz'));
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({
      status: 'not ready',
      failed: ['projection'],
      degraded: [],
      checks: { projection: { ok: false }, nats: { ok: true } },
    });

    projection.set(true);
    const after = await fetch(url('/readyz'));
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ status: 'ready', failed: [] });
  });

  it('stays ready (200) but says degraded, with the detail, when a check reports itself degraded', async () => {
    const readiness = new Readiness();
    readiness.register('quarantine', () => ({ ok: true, degraded: true, detail: { quarantined: 1 } }));
    readiness.register('nats', () => true);
    const { url } = await start(readiness);
    const res = await fetch(url('/readyz'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'degraded',
      failed: [],
      degraded: ['quarantine'],
      checks: { quarantine: { ok: true, degraded: true, detail: { quarantined: 1 } }, nats: { ok: true } },
    });
  });

  it('reports a throwing check as failed with its reason', async () => {
    const readiness = new Readiness();
    readiness.register('db', async () => {
      throw new Error('connection refused');
    });
    const { url } = await start(readiness);
    const res = await fetch(url('/readyz'));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ failed: ['db'], checks: { db: { ok: false, error: 'connection refused' } } });
  });

  it('404s unknown paths and 405s other methods', async () => {
    const { url } = await start();
    expect((await fetch(url('/nope'))).status).toBe(404);
    expect((await fetch(url('/metrics'), { method: 'POST' })).status).toBe(405);
  });
});

describe('createMetrics', () => {
  it('keeps registries apart and returns the existing metric for a repeated name', () => {
    const a = createMetrics('a', { defaultMetrics: false });
    const b = createMetrics('b', { defaultMetrics: false });
    const first = a.counter('strata_x_total', 'x');
    expect(a.counter('strata_x_total', 'x')).toBe(first);
    expect(b.counter('strata_x_total', 'x')).not.toBe(first);
    expect(() => a.histogram('strata_x_total', 'x')).toThrow(/another type/);
  });
});
