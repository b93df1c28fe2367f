/**
 * Issue 16: the audit boundary, against the control plane as production
 * runs it (startControlPlane: the audit service among the real processes,
 * nats-server with the users of render-accounts.mjs), plus a real hostview
 * (the audit service asks it for hosts' past views).
 *
 * - Through the api's signed path (requests signed with the api's key, as
 *   the api sends them): a tenant locating another tenant's resource, an
 *   operator resource or a missing one gets one and the same NOT_FOUND; a
 *   tenant asking for a host is refused; the owner is answered (the control).
 * - Directly on NATS: an unsigned request as the api user is refused
 *   unread; another service's user may not even publish to the audit
 *   service; and no user but audit may ask hostview for a host's past view
 *   (its question is unsigned, the permission is the guard) — the api's and
 *   other services' attempts are refused by the server and get no answer,
 *   while the audit user's is answered (the control).
 * - Nothing is written by any of it.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { HOSTVIEW_AT_SUBJECT, querySubject } from '@strata/contracts';
import { AuditClient, startProcess, type ManagedProcess, type Principal } from '@strata/lab';
import { commandSignerFrom } from '@strata/runtime';
import { waitFor } from '@strata/testing';
import { attempt, startHostileControlPlane, type HostileControlPlane } from './support/control-plane.js';

const HOSTVIEW_MAIN = fileURLToPath(new URL('../../services/hostview/dist/main.js', import.meta.url));
const alpha: Principal = { tenant: 'alpha', admin: false };
const beta: Principal = { tenant: 'beta', admin: false };
const admin: Principal = { tenant: 'ops', admin: true, actor: 'admin' };

/** A connection and the permission violations the server reported to it. */
interface Watched {
  nc: NatsConnection;
  errors: string[];
}

const forged = (body: object): string =>
  JSON.stringify({ meta: { actor: 'admin', tenant: 'ops', admin: true, requestId: 'forged', correlationId: 'forged', at: new Date().toISOString() }, body });

describe('hostile: the audit service\'s tenants and hosts', () => {
  let cp: HostileControlPlane;
  let hostview: ManagedProcess;
  /** The api's signed path: the api's NATS user and the api's signing key. */
  let signed: AuditClient;
  let alphaNet: string;

  const watched = async (user: string): Promise<Watched> => {
    const nc = await cp.connectAs(user);
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) {
        const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
        if (s.type === 'error' && ctx) errors.push(`${ctx.operation} ${ctx.subject}`);
      }
    })();
    return { nc, errors };
  };

  beforeAll(async () => {
    cp = await startHostileControlPlane(['alpha', 'beta'], { agents: ['hv1'] });
    hostview = startProcess('hostview', [process.execPath, HOSTVIEW_MAIN], {
      env: { NATS_URL: cp.natsUrl, NATS_USER: 'hostview', NATS_PASSWORD: cp.passwords['hostview']!, STRATA_HTTP_PORT: '0', STRATA_LOG_LEVEL: 'info' },
      readyWhen: /started/,
    });
    await hostview.ready;
    const pool = await cp.cli.json<{ id: string }>(cp.tokens['admin']!, ['pool', 'create', '--cidr', '203.0.113.0/24', '--purpose', 'host-ip']);
    await cp.cli.json(cp.tokens['admin']!, ['hypervisor', 'register', 'hv1', '--vtep-ip', '198.18.0.1', '--host-pool', pool.id]);
    alphaNet = (await cp.cli.json<{ id: string }>(cp.tokens['alpha']!, ['network', 'create', '--name', 'secret-a'])).id;
    signed = new AuditClient(await cp.connectAs('api'), 15_000, undefined, commandSignerFrom({ STRATA_COMMAND_SIGNING_KEY: cp.commandKeys.signingKey }));
    // The catalogue has caught up with the writes above once the owner finds its network.
    await waitFor(() => signed.query('resource.locate', { kind: 'network', id: alphaNet, points: [] }, alpha).then(() => true, () => false), { message: 'alpha locates its network' });
  });
  afterAll(async () => {
    await hostview?.stop().catch(() => undefined);
    await cp?.destroy();
  });

  it('through the signed path a tenant learns nothing of another tenant\'s resource, an operator resource or a host; nothing is written', async () => {
    const before = await cp.lastSeq();
    // The control: the owner and an admin are answered.
    expect(await signed.query('resource.locate', { kind: 'network', id: alphaNet, points: [{ position: 1 }] }, alpha)).toMatchObject({ tenant: 'alpha', aggregateId: alphaNet });
    expect((await signed.query('resource.locate', { kind: 'network', id: alphaNet, points: [] }, admin)).tenant).toBe('alpha');
    const missing = '00000000-0000-4000-8000-000000000000';
    const answers = await Promise.all(
      [
        { kind: 'network' as const, id: alphaNet },
        { kind: 'network' as const, id: missing },
        { kind: 'hypervisor' as const, id: 'hv1' },
        { kind: 'hypervisor' as const, id: 'hv9' },
      ].map(({ kind, id }) => signed.query('resource.locate', { kind, id, points: [] }, beta).then(() => 'answered', (e: { code: string; message: string }) => `${e.code} ${e.message}`)),
    );
    expect(answers).toEqual([`NOT_FOUND network ${alphaNet} not found`, `NOT_FOUND network ${missing} not found`, 'NOT_FOUND hypervisor hv1 not found', 'NOT_FOUND hypervisor hv9 not found']);
    // Hosts are the operator's: refused before anything is looked up, whether the host exists or not.
    for (const hostId of ['hv1', 'hv9']) {
      await expect(signed.query('host.show', { hostId, at: { position: 1 } }, beta)).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringContaining('needs an admin token') });
      await expect(signed.query('host.diff', { hostId, from: { position: 1 } }, alpha)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    }
    // The control: an admin gets hv1 at a point (hostview answered through the audit service).
    expect((await signed.query('host.show', { hostId: 'hv1', at: { position: before } }, admin)).at.seq).toBe(before);
    expect(await cp.lastSeq()).toBe(before);
  });

  it('an unsigned request as the api user is refused unread; another service\'s user may not publish to the audit service at all', async () => {
    const api = await cp.connectAs('api');
    const unsigned = await attempt(api, querySubject('audit', 'resource.locate'), forged({ kind: 'network', id: alphaNet, points: [] }));
    expect(JSON.parse(unsigned)).toEqual({ ok: false, error: { code: 'UNAUTHENTICATED', message: 'request is not signed', details: {} } });
    for (const user of ['secgroup', 'status', 'hostview']) {
      const w = await watched(user);
      const reply = await attempt(w.nc, querySubject('audit', 'host.show'), forged({ hostId: 'hv1', at: { position: 1 } }));
      expect(reply, user).not.toContain('"ok"');
      await waitFor(() => w.errors.includes(`publish ${querySubject('audit', 'host.show')}`), { message: `${user}'s publish refused` });
    }
  });

  it("no user but audit may ask hostview for a host's past view: the others are refused by the server and answered by nobody", async () => {
    const before = await cp.lastSeq();
    const question = JSON.stringify({ hostId: 'hv1', toSeq: before });
    // The control: the audit user's question is answered by hostview.
    const audit = await cp.connectAs('audit');
    expect(JSON.parse(await attempt(audit, HOSTVIEW_AT_SUBJECT, question))).toMatchObject({ ok: true, result: { hostId: 'hv1', toSeq: before } });
    for (const user of ['api', 'secgroup', 'ipam', 'nat', 'chaining', 'status', 'bgp', 'agent-hv1']) {
      const w = await watched(user);
      const reply = await attempt(w.nc, HOSTVIEW_AT_SUBJECT, question);
      expect(reply, user).not.toContain('"ok"');
      await waitFor(() => w.errors.includes(`publish ${HOSTVIEW_AT_SUBJECT}`), { message: `${user}'s publish refused` });
    }
    expect(await cp.lastSeq()).toBe(before);
  });
});
