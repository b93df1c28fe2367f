/**
 * Issue 11, defect 1 (command injection through JetStream) and defect 2
 * (capturing the command bus). A service must not act on a request because
 * of the subject it arrived on: every command and query is signed by the
 * api (libs/runtime/src/command-auth.ts) and verified by the service before
 * it reads it. And no service user may create a stream that captures the
 * command subjects. Each service holds only its own key, so a compromised
 * service cannot authenticate a request to another one.
 */
import { AckPolicy, DeliverPolicy } from 'nats';
import { snapshotBucket, snapshotStream } from '@strata/eventlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandSubject, querySubject } from '@strata/contracts';
import { authenticationHeaders, commandVerifyEntry, serviceKeyOfEntry } from '@strata/runtime';
import { attempt, startHostileControlPlane, type HostileControlPlane } from './support/control-plane.js';

const forged = (tenant: string, name: string, body: object = { name, tenant }): string =>
  JSON.stringify({
    meta: { actor: 'admin', tenant, admin: true, requestId: `forged-${name}`, correlationId: `forged-${name}`, at: new Date().toISOString() },
    body,
  });

describe('hostile: commands that did not come from the api', () => {
  let cp: HostileControlPlane;
  let alpha: string;
  let networksOf: (tenant: string) => Promise<string[]>;

  beforeAll(async () => {
    cp = await startHostileControlPlane(['alpha', 'beta']);
    alpha = cp.tokens['alpha']!;
    networksOf = async (tenant) =>
      (await cp.cli.json<{ items: { name: string; tenant: string }[] }>(cp.tokens['admin']!, ['network', 'list'])).items
        .filter((n) => n.tenant === tenant)
        .map((n) => n.name);
  });
  afterAll(async () => {
    await cp?.destroy();
  });

  it('a request sent with the api NATS user but without the signing key is refused unread, and nothing is written', async () => {
    const api = await cp.connectAs('api');
    const before = await cp.eventCount();
    const reply = await attempt(api, commandSubject('ipam', 'network.create'), forged('beta', 'stolen-password'));
    expect(JSON.parse(reply)).toEqual({ ok: false, error: { code: 'UNAUTHENTICATED', message: 'request is not signed', details: {} } });
    // A query is refused the same way: a forged admin query would read every tenant.
    const query = await attempt(api, 'strata.qry.ipam.network.list', forged('beta', 'peek'));
    expect(JSON.parse(query)).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    expect(await cp.eventCount()).toBe(before);
    expect(await networksOf('beta')).not.toContain('stolen-password');
    expect(ipamLog()).toMatch(/request refused: not authenticated/);
  });

  it('an envelope a service user stores and has JetStream deliver into a command subject is refused, and nothing is written', async () => {
    const nat = await cp.connectAs('nat');
    const before = await cp.eventCount();
    const stream = natWritableStream();
    // The forged admin request as stored bytes in a stream nat may write, then a push consumer delivering it to ipam.
    await nat.jetstream().publish(stream.subject, new TextEncoder().encode(forged('beta', 'injected')));
    const jsm = await nat.jetstreamManager();
    // Into ipam's command subject (with and without its queue group), and into IPAM's event subjects (event forgery).
    const targets = [
      { deliver_subject: commandSubject('ipam', 'network.create'), deliver_group: 'ipam' },
      { deliver_subject: commandSubject('ipam', 'network.create') },
      { deliver_subject: 'strata.evt.ipam.network.forged' },
    ];
    for (const [i, target] of targets.entries()) {
      // Named: the create subjects nat may use on its own bucket carry the consumer's name.
      await jsm.consumers.add(stream.name, {
        name: `inject${i}`,
        ...target,
        filter_subject: stream.subject,
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.All,
      });
    }
    // Delivered or not (the server delivers only where it sees interest), the request must never act.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await networksOf('beta')).not.toContain('injected');
    expect(await cp.eventCount()).toBe(before);
  });

  it('hostview cannot create a stream that captures the command bus (under any name), and API commands still work', async () => {
    const hostview = await cp.connectAs('hostview');
    const before = await cp.eventCount();
    for (const name of ['CAPTURE', 'KV_strata-hostview-hv1', 'KV_anything']) {
      const config = { name, subjects: ['strata.cmd.>'], retention: 'limits', storage: 'memory', num_replicas: 1 };
      expect(await attempt(hostview, `$JS.API.STREAM.CREATE.${name}`, JSON.stringify(config))).toMatch(/Permissions Violation/);
    }
    const admin = await cp.connectAs('admin');
    const jsm = await admin.jetstreamManager();
    await expect(jsm.streams.find('strata.cmd.ipam.network.create')).rejects.toThrow(/no stream matches subject/);
    // Commands are answered (not "malformed reply") and applied once.
    const net = await cp.cli.json<{ id: string; tenant: string }>(alpha, ['network', 'create', '--name', 'after-capture-attempt']);
    expect(net.tenant).toBe('alpha');
    expect(await cp.eventCount()).toBe(before + 1);
  });

  it("a compromised ipam (its key and a NATS user that may publish commands) cannot command or query secgroup: refused unread, nothing written", async () => {
    // What the ipam process holds: its own STRATA_COMMAND_VERIFY_KEYS entry (startControlPlane gives it only that).
    const ipamKey = serviceKeyOfEntry(commandVerifyEntry(cp.commandKeys.signingKey, 'ipam'));
    const api = await cp.connectAs('api');
    const send = (subject: string, data: string) =>
      api.request(subject, new TextEncoder().encode(data), { timeout: 5_000, headers: authenticationHeaders(ipamKey, subject, new TextEncoder().encode(data), Date.now()) });
    // The key is real: ipam itself accepts a request made with it (a query: it writes nothing).
    const list = querySubject('ipam', 'network.list');
    expect(JSON.parse(new TextDecoder().decode((await send(list, forged('beta', 'own-key', {}))).data))).toMatchObject({ ok: true });
    const before = await cp.eventCount();
    const create = commandSubject('secgroup', 'group.create');
    const reply = JSON.parse(new TextDecoder().decode((await send(create, forged('beta', 'from-ipam'))).data));
    expect(reply).toEqual({ ok: false, error: { code: 'UNAUTHENTICATED', message: `request is signed with unknown key ${ipamKey.keyId}`, details: {} } });
    const peek = querySubject('secgroup', 'group.list');
    expect(JSON.parse(new TextDecoder().decode((await send(peek, forged('beta', 'peek', {}))).data))).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    expect(await cp.eventCount()).toBe(before);
    const groups = await cp.cli.json<{ items: { name: string }[] }>(cp.tokens['admin']!, ['secgroup', 'list']);
    expect(groups.items.map((g) => g.name)).not.toContain('from-ipam');
    expect(secgroupLog()).toMatch(/request refused: not authenticated/);
  });

  it('a request signed by the api still works (the same path, authenticated)', async () => {
    const before = await cp.eventCount();
    const net = await cp.cli.json<{ id: string; tenant: string }>(alpha, ['network', 'create', '--name', 'web']);
    expect(net.tenant).toBe('alpha');
    expect(await cp.eventCount()).toBeGreaterThan(before);
  });

  function ipamLog(): string {
    return cp.processes.filter((p) => p.name.startsWith('ipam')).map((p) => p.output()).join('\n');
  }
  function secgroupLog(): string {
    return cp.processes.filter((p) => p.name === 'secgroup').map((p) => p.output()).join('\n');
  }
});

/** A stream the nat user may publish to: its own snapshot bucket's stream (the operator created it). */
function natWritableStream(): { name: string; subject: string } {
  const bucket = snapshotBucket('nat');
  return { name: snapshotStream(bucket), subject: `$O.${bucket}.C.forged` };
}
