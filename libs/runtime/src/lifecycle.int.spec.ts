import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ErrorCode, StrataError } from '@strata/errors';
import { freePort, startNatsServer, startStrataNats, type StrataNats } from '@strata/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from './config.js';
import { startService, type ServiceContext } from './lifecycle.js';
import type { RequestMeta } from './messaging.js';
import { NatsRequester } from './requester.js';
import { commandSignerFrom, commandVerifierFrom } from './command-auth.js';
import { handler, serve } from './serve.js';

const meta: RequestMeta = {
  actor: 'test',
  tenant: 't1',
  admin: false,
  requestId: 'r1',
  correlationId: 'c1',
  at: '2025-01-01T00:00:00.000Z',
};

// Production users (infra/nats/render-accounts.mjs): the service runs as ipam, the test requests as the api.
describe('service lifecycle', () => {
  let nats: StrataNats;
  let requester: NatsRequester;
  const env = (extra: Record<string, string> = {}) => ({ ...nats.env('ipam'), STRATA_LOG_LEVEL: 'silent', ...extra });

  beforeAll(async () => {
    nats = await startStrataNats();
    requester = new NatsRequester(await nats.connect('api'), { signer: commandSignerFrom() });
  }, 30_000);

  afterAll(async () => {
    await nats?.stop();
  });

  describe('startService', () => {
    it('wires config, NATS, metrics and readiness, and shuts down in order', async () => {
      const events: string[] = [];
      const running = await startService(
        {
          name: 'ipam',
          config: z.object({ IPAM_POOL: z.string() }),
          async start(ctx) {
            const projection = ctx.readiness.flag('projection');
            const handle = await serve(ctx.nc, {
              subjectPrefix: 'strata.qry.ipam',
              queue: 'ipam',
              logger: ctx.logger,
              metrics: ctx.metrics,
              verifier: commandVerifierFrom(process.env, 'ipam'),
              handlers: {
                pool: handler(z.object({}), async () => ({ result: ctx.config.IPAM_POOL })),
                'projection.ready': handler(z.object({}), async () => (projection.set(true), { result: null })),
              },
            });
            return async () => {
              events.push(`stop (nats closed: ${ctx.nc.isClosed()})`);
              await handle.drain();
            };
          },
        },
        env({ IPAM_POOL: '10.0.0.0/8', STRATA_SERVICE_NAME: 'ipam-2' }),
      );
      const { ctx } = running;
      const url = (path: string) => `http://${ctx.http.host}:${ctx.http.port}${path}`;

      expect(ctx.name).toBe('ipam-2');
      expect(ctx.config).toMatchObject({ IPAM_POOL: '10.0.0.0/8', NATS_URL: nats.url, NATS_USER: 'ipam', STRATA_HTTP_PORT: 0 });
      expect(await requester.request('strata.qry.ipam.pool', {}, meta)).toEqual({ result: '10.0.0.0/8' });

      const notReady = await fetch(url('/readyz'));
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ failed: ['projection'] });
      await requester.request('strata.qry.ipam.projection.ready', {}, meta);
      expect((await fetch(url('/readyz'))).status).toBe(200);
      expect(await (await fetch(url('/metrics'))).text()).toContain('service="ipam-2"');

      await running.stop();
      expect(events).toEqual(['stop (nats closed: false)']);
      expect(ctx.nc.isClosed()).toBe(true);
      await expect(fetch(url('/healthz'))).rejects.toThrow();
      const err = await requester.request('strata.qry.ipam.pool', {}, meta).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StrataError);
      expect((err as StrataError).code).toBe(ErrorCode.Unavailable);
      await running.stop(); // idempotent
    });

    it('reports every bad variable, base and service ones together', async () => {
      const start = async () => async () => undefined;
      const err = await startService(
        { name: 'ipam', config: z.object({ IPAM_POOL: z.string() }), start },
        env({ STRATA_HTTP_PORT: 'x' }),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['IPAM_POOL', 'STRATA_HTTP_PORT']);
    });

    it('releases NATS and the HTTP port when start fails', async () => {
      let seen: ServiceContext | undefined;
      const failure = new Error('boom');
      const err = await startService(
        {
          name: 'ipam',
          async start(ctx) {
            seen = ctx;
            throw failure;
          },
        },
        env(),
      ).catch((e: unknown) => e);
      expect(err).toBe(failure);
      expect(seen?.nc.isClosed()).toBe(true);
      await expect(fetch(`http://${seen?.http.host}:${seen?.http.port}/healthz`)).rejects.toThrow();
    });

    it('with waitForNats, waits while no server answers and starts once one does; a refusal still fails at once', async () => {
      const port = await freePort();
      const waiter = { name: 'waiter', waitForNats: true, start: async () => () => undefined };
      const starting = startService(waiter, { NATS_URL: `nats://127.0.0.1:${port}`, STRATA_LOG_LEVEL: 'silent' });
      let settled = false;
      starting.then(
        () => (settled = true),
        () => (settled = true),
      );
      // Without waitForNats this fails at once (CONNECTION_REFUSED); with it, it is still trying after a few retries.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(settled).toBe(false);
      const server = await startNatsServer({ port });
      try {
        const running = await starting;
        expect(running.ctx.nc.isClosed()).toBe(false);
        await running.stop();
      } finally {
        await server.stop();
      }
      await expect(startService({ ...waiter, name: 'ipam' }, env({ NATS_PASSWORD: 'wrong' }))).rejects.toThrow(/authoriz/i);
    });
  });

  describe('runService (child process)', () => {
    const fixture = fileURLToPath(new URL('../test-fixtures/echo-service.mjs', import.meta.url));

    /** Runs the fixture; `onLine` sees each JSON log line and may signal the child. */
    function run(extraEnv: Record<string, string>, onLine: (line: Record<string, unknown>, kill: (s: NodeJS.Signals) => void) => void) {
      const child = spawn(process.execPath, [fixture], {
        // The fixture plays IPAM: its user, and its command key from this run's harness keys (vitest.setup.ts).
        env: { ...process.env, ...nats.env('ipam'), STRATA_LOG_LEVEL: 'info', ...extraEnv },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines: Record<string, unknown>[] = [];
      createInterface({ input: child.stdout }).on('line', (text) => {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        onLine(line, (s) => child.kill(s));
      });
      return new Promise<{ code: number | null; lines: Record<string, unknown>[] }>((resolve) =>
        child.on('close', (code) => resolve({ code, lines })),
      );
    }

    it('serves until SIGTERM, then drains and exits 0', async () => {
      let reply: unknown;
      const { code, lines } = await run({}, (line, kill) => {
        if (line['msg'] !== 'started') return;
        requester.request('strata.qry.ipam.echo', { text: 'hi' }, meta).then(
          (r) => ((reply = r), kill('SIGTERM')),
          (e: unknown) => ((reply = e), kill('SIGKILL')),
        );
      });
      expect(reply).toEqual({ result: 'hi' });
      expect(code).toBe(0);
      expect(lines.map((l) => l['msg'])).toEqual(['connected', 'started', 'shutting down', 'echo drained', 'stopped']);
      expect(lines.every((l) => l['service'] === 'ipam')).toBe(true);
    }, 20_000);

    it('logs and exits 1 when start fails', async () => {
      const { code, lines } = await run({ ECHO_FAIL_START: 'yes' }, () => undefined);
      expect(code).toBe(1);
      expect(lines.at(-1)).toMatchObject({ level: 60, msg: 'failed to start', err: { message: 'refusing to start' } });
    }, 20_000);

    it('exits 1 on a configuration error', async () => {
      const { code, lines } = await run({ STRATA_HTTP_PORT: 'eighty' }, () => undefined);
      expect(code).toBe(1);
      expect(lines.at(-1)).toMatchObject({ msg: 'failed to start', err: { type: 'ConfigError' } });
    }, 20_000);
  });
});
