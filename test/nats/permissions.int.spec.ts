/**
 * The NATS security baseline of infra/nats/accounts.conf: each service
 * connects as its own user and can use only its own subjects. IPAM and the
 * api run with their real users here and serve a command end to end.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers, type NatsConnection } from 'nats';
import { startNatsServer, type NatsServerHandle } from '@strata/testing';
import { IpamClient, startIpam, type IpamProcess } from '../support/ipam.js';

const ACCOUNTS = fileURLToPath(new URL('../../infra/nats/accounts.conf', import.meta.url));
const password = (): string => randomBytes(12).toString('hex');
const secrets = { admin: password(), ipam: password(), api: password() };

describe('NATS users and subject permissions', () => {
  let nats: NatsServerHandle;
  let ipam: IpamProcess;
  let api: NatsConnection;

  beforeAll(async () => {
    process.env['STRATA_NATS_ADMIN_PASSWORD'] = secrets.admin;
    process.env['STRATA_NATS_IPAM_PASSWORD'] = secrets.ipam;
    process.env['STRATA_NATS_API_PASSWORD'] = secrets.api;
    // nats-server resolves `include` relative to the config file, so the accounts text is inlined.
    nats = await startNatsServer({ config: readFileSync(ACCOUNTS, 'utf8') });
    ipam = startIpam(nats.url, { NATS_USER: 'ipam', NATS_PASSWORD: secrets.ipam, STRATA_SERVICE_NAME: 'ipam' });
    await ipam.ready;
    api = await connect({ servers: nats.url, user: 'api', pass: secrets.api, inboxPrefix: '_INBOX_api' });
  });

  afterAll(async () => {
    await api?.close();
    await ipam?.stop();
    await nats?.stop();
  });

  it('lets the api send IPAM commands and IPAM write its events', async () => {
    const client = new IpamClient(api);
    const network = await client.command('network.create', { name: 'n' }, { tenant: 't1', admin: false });
    expect(network.vni).toBeGreaterThan(0);
  });

  it('refuses a wrong password', async () => {
    await expect(connect({ servers: nats.url, user: 'ipam', pass: 'wrong', reconnect: false })).rejects.toThrow(/Authorization Violation/i);
  });

  it('does not let the api write events', async () => {
    const js = api.jetstream();
    await expect(js.publish('strata.evt.ipam.network.x', new Uint8Array(), { timeout: 2000 })).rejects.toThrow();
  });

  it("does not let IPAM write another service's events", async () => {
    const nc = await connect({ servers: nats.url, user: 'ipam', pass: secrets.ipam, inboxPrefix: '_INBOX_ipam' });
    const h = headers();
    h.set('Nats-Msg-Id', 'x');
    await expect(nc.jetstream().publish('strata.evt.secgroup.group.x', new Uint8Array(), { timeout: 2000, headers: h })).rejects.toThrow();
    await nc.close();
  });

  it("does not let IPAM answer another service's commands", async () => {
    const nc = await connect({ servers: nats.url, user: 'ipam', pass: secrets.ipam, inboxPrefix: '_INBOX_ipam' });
    const sub = nc.subscribe('strata.cmd.secgroup.>');
    const failure = (async () => {
      for await (const _ of sub) return 'received a message';
      return 'closed without error';
    })().catch((e: Error) => e.message);
    await nc.flush();
    expect(await failure).toMatch(/Permissions Violation for Subscription to "strata\.cmd\.secgroup\.>"/);
    await nc.close();
  });
});
