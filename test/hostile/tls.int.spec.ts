/**
 * Issue 18: TLS everywhere. The control plane as production runs it
 * (startControlPlane: nats-server with the users of infra/nats, every
 * service process, the gRPC API) with a private CA made by makePki, NATS
 * verifying client certificates and the API requiring mutual TLS. The
 * attacks: a client that trusts another CA, a client certificate of another
 * CA, an expired certificate, an agent with another host's credentials, and
 * an eavesdropper on the wire. Each must fail, write nothing, and (at the
 * servers) be logged with its reason.
 *
 * The eavesdropper: tcpdump on loopback, filtered on this test's own ports,
 * records the control traffic from the first connection on (the services'
 * NATS logins included) while the CLI runs commands with bearer tokens and
 * an agent logs in. No token or password may be in the captured bytes. The
 * same capture of the same plane without TLS must contain them: otherwise
 * the check could not fail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { connect, type ConnectionOptions } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makePki, type Pki } from '@strata/testing';
import { strataCli } from '../support/api.js';
import { startCapture, secretsIn } from './support/capture.js';
import { startHostileControlPlane, type HostileControlPlane, type HostileOptions } from './support/control-plane.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-hostile-tls-'));
const TENANT = 't1';

interface Captured {
  /** Every token and password of the plane, by name (`token:<who>`, `password:<user>`). */
  secrets: Record<string, string>;
  /** The names of the secrets found in the captured bytes. */
  found: string[];
  bytes: number;
}

/** Start a plane under capture (from its first connection), drive it, and search the capture. The plane keeps running. */
async function captured(name: string, options: HostileOptions): Promise<{ cp: HostileControlPlane; result: Captured }> {
  const natsPort = await freePort();
  const apiPort = await freePort();
  const capture = await startCapture([natsPort, apiPort], join(dir, `${name}.pcap`));
  let cp: HostileControlPlane | undefined;
  try {
    cp = await startHostileControlPlane([TENANT], { ...options, natsPort, apiAddr: `127.0.0.1:${apiPort}`, agents: ['hv1', 'hv2'] });
    // Bearer tokens over gRPC: a tenant's command and the admin's query, each a CLI invocation (its own connection).
    const created = await cp.cli.json<{ id: string }>(cp.tokens[TENANT]!, ['network', 'create', '--name', `captured-${name}`]);
    expect(created.id).toBeTruthy();
    await cp.cli.json(cp.tokens['admin']!, ['network', 'list']);
    // An agent's login (its host's password) over NATS.
    const agent = await cp.connectAs('agent-hv1');
    await agent.flush();
    await agent.close();
    const bytes = await capture.stop();
    const secrets = {
      ...Object.fromEntries(Object.entries(cp.tokens).map(([who, t]) => [`token:${who}`, t])),
      ...Object.fromEntries(Object.entries(cp.passwords).map(([user, p]) => [`password:${user}`, p])),
    };
    const bearer = new Set(Object.keys(cp.tokens).map((who) => `token:${who}`));
    return { cp, result: { secrets, found: secretsIn(bytes, secrets, bearer), bytes: bytes.length } };
  } catch (err) {
    await capture.stop().catch(() => undefined);
    await cp?.destroy().catch(() => undefined);
    throw err;
  }
}

describe('hostile: TLS on every control connection', () => {
  let pki: Pki;
  let cp: HostileControlPlane;
  let clear: Captured;
  let encrypted: Captured;
  let expiredServer: TlsServer | undefined;

  beforeAll(async () => {
    pki = makePki(join(dir, 'pki'));
    const plain = await captured('plaintext', {});
    clear = plain.result;
    await plain.cp.destroy();
    const secure = await captured('tls', { tls: { pki, natsVerify: true, apiMutual: true } });
    cp = secure.cp;
    encrypted = secure.result;
  }, 180_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => (expiredServer ? expiredServer.close(() => resolve()) : resolve()));
    await cp?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a capture of the control traffic holds no token or password with TLS (and holds them without)', () => {
    // The check can fail: the same traffic in clear carries the bearer tokens and the NATS passwords.
    expect(clear.found).toEqual(expect.arrayContaining([`token:${TENANT}`, 'token:admin', 'password:api', 'password:ipam', 'password:agent-hv1']));
    expect(encrypted.bytes).toBeGreaterThan(10_000);
    expect(encrypted.found).toEqual([]);
  });

  /** Connection options of a NATS user with this TLS (default: the plane's own CA and client certificate). */
  const natsAs = (user: string, password: string, tls: { ca: string; cert?: string; key?: string }): ConnectionOptions => ({
    servers: cp.natsUrl,
    user,
    pass: password,
    reconnect: false,
    // Under TLS 1.3 a refused client certificate is answered after the client's handshake: don't wait nats.js's 20 s.
    timeout: 3_000,
    tls: { ca: readFileSync(tls.ca, 'utf8'), ...(tls.cert ? { cert: readFileSync(tls.cert, 'utf8'), key: readFileSync(tls.key!, 'utf8') } : {}) },
  });
  const refusedNats = async (opts: ConnectionOptions): Promise<string> => {
    try {
      const nc = await connect(opts);
      await nc.close();
      return 'connected';
    } catch (err) {
      return (err as Error).message;
    }
  };
  const apiLog = (): string => cp.processes.find((p) => p.name === 'api')!.output();

  it('a client that trusts another CA is refused: the CLI by the API, a service by NATS; nothing is written', async () => {
    const before = await cp.lastSeq();
    const { cert, key } = pki.client;
    const securities: Record<string, string>[] = [{ STRATA_CA: pki.foreign.ca.cert, STRATA_CERT: cert, STRATA_KEY: key }, { STRATA_CERT: cert, STRATA_KEY: key }];
    for (const security of securities) {
      const r = await strataCli(cp.apiAddr, security).cli(cp.tokens[TENANT]!, ['network', 'create', '--name', 'wrong-ca']);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/UNAVAILABLE.*(self-signed certificate|unable to get local issuer certificate|unable to verify)/);
    }
    const wrongCa = await refusedNats(natsAs('ipam', cp.passwords['ipam']!, { ca: pki.foreign.ca.cert, ...pki.client }));
    expect(wrongCa).toMatch(/self-signed certificate|unable to verify|unable to get local issuer/i);
    // The same client with the right CA gets in: the refusals were the CA's.
    expect(await refusedNats(natsAs('ipam', cp.passwords['ipam']!, { ca: pki.ca.cert, ...pki.client }))).toBe('connected');
    expect(await cp.lastSeq()).toBe(before);
  });

  it('a client certificate of another CA, an expired one or none is refused by the API (mutual TLS) and by NATS, and logged', async () => {
    const before = await cp.lastSeq();
    const ca = pki.ca.cert;
    const cases: { name: string; security: Record<string, string> }[] = [
      { name: 'foreign', security: { STRATA_CA: ca, STRATA_CERT: pki.foreign.client.cert, STRATA_KEY: pki.foreign.client.key } },
      { name: 'expired', security: { STRATA_CA: ca, STRATA_CERT: pki.expired.cert, STRATA_KEY: pki.expired.key } },
      { name: 'none', security: { STRATA_CA: ca } },
    ];
    for (const c of cases) {
      const r = await strataCli(cp.apiAddr, c.security).cli(cp.tokens[TENANT]!, ['network', 'create', '--name', `client-cert-${c.name}`]);
      expect(r.code, c.name).not.toBe(0);
      expect(r.err, c.name).toMatch(/UNAVAILABLE/);
    }
    const refusals = apiLog().split('\n').filter((l) => l.includes('TLS handshake refused')).join('\n');
    expect(refusals).toMatch(/"client certificate refused: UNABLE_TO_VERIFY_LEAF_SIGNATURE".*"subject":"foreign-client","issuer":"Strata test foreign-ca"/);
    expect(refusals).toMatch(/"client certificate refused: CERT_HAS_EXPIRED".*"subject":"expired"/);
    expect(refusals).toMatch(/"no client certificate"/);

    for (const cert of [pki.foreign.client, pki.expired]) {
      expect(await refusedNats(natsAs('ipam', cp.passwords['ipam']!, { ca, ...cert }))).not.toBe('connected');
    }
    expect(await refusedNats(natsAs('ipam', cp.passwords['ipam']!, { ca }))).not.toBe('connected');
    const natsRefusals = (cp.natsLogs().match(/TLS handshake error: .*/g) ?? []).join('\n');
    expect(natsRefusals).toMatch(/certificate has expired/);
    expect(natsRefusals).toMatch(/unknown authority/);
    expect(natsRefusals).toMatch(/didn't provide a certificate/);
    expect(await cp.lastSeq()).toBe(before);
  });

  it('the CLI refuses an API whose certificate has expired', async () => {
    expiredServer = createTlsServer({ cert: readFileSync(pki.expired.cert), key: readFileSync(pki.expired.key), ALPNProtocols: ['h2'] });
    await new Promise<void>((resolve) => expiredServer!.listen(0, '127.0.0.1', () => resolve()));
    const addr = `127.0.0.1:${(expiredServer.address() as AddressInfo).port}`;
    const r = await strataCli(addr, { STRATA_CA: pki.ca.cert }).cli(cp.tokens[TENANT]!, ['network', 'list']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/UNAVAILABLE.*certificate has expired/);
  });

  it("an agent with another host's credentials is refused over TLS, and nats-server logs it", async () => {
    const tls = { ca: pki.ca.cert, ...pki.client };
    // hv1's user with hv2's password, and hv2's user with hv1's: the password is what identifies the host.
    expect(await refusedNats(natsAs('agent-hv1', cp.passwords['agent-hv2']!, tls))).toMatch(/AUTHORIZATION_VIOLATION|Authorization Violation/i);
    expect(await refusedNats(natsAs('agent-hv2', cp.passwords['agent-hv1']!, tls))).toMatch(/AUTHORIZATION_VIOLATION|Authorization Violation/i);
    await expect.poll(() => cp.natsLogs()).toMatch(/authentication error - User "agent-hv1"/);
    await expect.poll(() => cp.natsLogs()).toMatch(/authentication error - User "agent-hv2"/);
    // With its own credentials it gets in over TLS, but cannot speak for the other host (its report subject).
    const hv1 = await connect(natsAs('agent-hv1', cp.passwords['agent-hv1']!, tls));
    try {
      expect(hv1.info?.tls_required).toBe(true);
      hv1.publish('strata.status.hv2', new TextEncoder().encode('{}'));
      await hv1.flush();
      await expect.poll(() => cp.natsLogs()).toMatch(/Publish Violation - User "agent-hv1", Subject "strata\.status\.hv2"/);
    } finally {
      await hv1.close();
    }
  });
});
