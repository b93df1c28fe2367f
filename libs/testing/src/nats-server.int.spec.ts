import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive } from './server-child.js';
import { connect } from 'nats';
import { startNatsServer, type NatsServerHandle } from './nats-server.js';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

describe('startNatsServer', () => {
  const started: NatsServerHandle[] = [];
  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  it('runs JetStream on a loopback port, keeps data across restart() and kill9(), and cleans up on stop()', async () => {
    const s = await startNatsServer();
    started.push(s);
    expect(s.url).toBe(`nats://127.0.0.1:${s.port}`);
    let nc = await connect({ servers: s.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'K', subjects: ['k.>'] });
    await nc.jetstream().publish('k.1', new TextEncoder().encode('hello'));
    await nc.close();

    const firstPid = s.pid!;
    await s.restart();
    expect(processAlive(firstPid)).toBe(false);
    nc = await connect({ servers: s.url });
    expect((await (await nc.jetstreamManager()).streams.info('K')).state.messages).toBe(1);
    await nc.close();

    const pid = s.pid!;
    await s.kill9();
    expect(processAlive(pid)).toBe(false);
    await s.restart();
    nc = await connect({ servers: s.url });
    expect((await (await nc.jetstreamManager()).streams.info('K')).state.messages).toBe(1);
    await nc.close();

    const lastPid = s.pid!;
    await s.stop();
    expect(processAlive(lastPid)).toBe(false);
    expect(existsSync(s.storeDir)).toBe(false);
    await s.stop(); // idempotent
  });

  it('takes extra configuration text, e.g. accounts and users', async () => {
    const s = await startNatsServer({
      config: 'accounts { A { jetstream: enabled, users: [ { user: u, password: p } ] } }',
    });
    started.push(s);
    await expect(connect({ servers: s.url, reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    const nc = await connect({ servers: s.url, user: 'u', pass: 'p' });
    expect((await (await nc.jetstreamManager()).getAccountInfo()).streams).toBe(0);
    await nc.close();
  });

  it('reports a server that cannot start, with its output', async () => {
    await expect(startNatsServer({ config: 'this is { not valid' })).rejects.toThrow(/exited during startup/);
  });

  it('runs several servers side by side', async () => {
    const [a, b] = await Promise.all([startNatsServer(), startNatsServer()]);
    started.push(a!, b!);
    expect(a!.port).not.toBe(b!.port);
  });
});

describe('freePort and waitFor', () => {
  it('freePort returns a bindable port', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
  });

  it('waitFor returns the first truthy value and times out with the message otherwise', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? n : 0), { intervalMs: 1 })).toBe(3);
    await expect(waitFor(() => false, { timeoutMs: 30, intervalMs: 5, message: 'never' })).rejects.toThrow(/never/);
  });
});
