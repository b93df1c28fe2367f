/**
 * The integration-test stack of the Neutron service: the control plane as
 * production runs it (startControlPlane: nats-server with the production
 * users, ipam x2, secgroup, nat, chaining, status, audit as real processes)
 * and the Neutron REST service connected as its own NATS user `neutron`,
 * signing its requests like the api, serving the resource modules
 * (default: every module of resources/index.ts) on a free loopback port.
 *
 * Identities: `login(project, user, role)` gives a token for a user with a
 * role on a project (the same name always gives the same project id). By
 * default tokens come from a table in this process; with `keystone` they
 * are Keystone's (projects and users created there on first use, a fresh
 * password-authenticated token per login), validated by the production
 * KeystoneValidator, and the endpoint is in Keystone's catalog as the
 * `network` service.
 *
 *   const stack = await startNeutronStack();
 *   const alice = await stack.login('project-a', 'alice', 'member');
 *   const r = await stack.request('POST', '/v2.0/networks', { token: alice.token, body: { network: { name: 'n1' } } });
 *   expect(r.status).toBe(201);
 *   await stack.stop();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import type { KeystoneValidatorConfigInput, Role, TokenValidator } from '@strata/identity';
import { startControlPlane, type ControlPlane } from '@strata/lab';
import { CommandSigner, createLogger } from '@strata/runtime';
import { freePort, type KeystoneHandle } from '@strata/testing';
import type { ResourceDefinition } from '../resource.js';
import { startNeutronServer, type HttpLimits, type NeutronServer } from '../server.js';
import { KeystoneLogins } from './keystone-logins.js';
import { TokenTable } from './token-table.js';

export interface StackLogin {
  token: string;
  /** The Keystone project id: the Strata tenant. */
  projectId: string;
  userName: string;
  role: Role;
}

export interface StackResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON; undefined for an empty body (204). */
  body: any;
}

export interface StackRequest {
  token?: string;
  /** JSON-encoded unless a string (sent as is). */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface NeutronStack {
  /** The Neutron endpoint, `http://127.0.0.1:<port>` (requests go to `${url}/v2.0/...`). */
  url: string;
  controlPlane: ControlPlane;
  server: NeutronServer;
  /** With the `keystone` option: its logins (any role name, the user's password) and the validator. */
  keystone: KeystoneLogins | undefined;
  /** A token for `user` with `role` on `project` (created on first use). */
  login(project: string, user: string, role: Role): Promise<StackLogin>;
  /** An HTTP request to the Neutron endpoint; `path` starts with `/`. */
  request(method: string, path: string, req?: StackRequest): Promise<StackResponse>;
  /** Connect as a production NATS user (e.g. `admin` for the operator's checks). */
  connectAs(user: string): Promise<NatsConnection>;
  /** The event log's last sequence as the operator sees it: a refused request must not move it. */
  lastSeq(): Promise<number>;
  stop(): Promise<void>;
}

export interface NeutronStackOptions {
  /** The resource modules to serve (default: every registered one). */
  resources?: readonly ResourceDefinition[];
  /** Hypervisors to provision (agent users and host-view buckets). */
  agents?: readonly string[];
  /** The HTTP server's connection limits (default: production's). */
  http?: Partial<HttpLimits>;
  /** Validate tokens against this Keystone (started by the caller), with these validator settings. */
  keystone?: { handle: KeystoneHandle; validator?: Partial<KeystoneValidatorConfigInput> };
}

export async function startNeutronStack(options: NeutronStackOptions = {}): Promise<NeutronStack> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-neutron-'));
  const connections: NatsConnection[] = [];
  let cp: ControlPlane | undefined;
  let server: NeutronServer | undefined;
  let keystone: KeystoneLogins | undefined;
  const stop = async (): Promise<void> => {
    await server?.stop().catch(() => undefined);
    await keystone?.stop().catch(() => undefined);
    for (const nc of connections) if (!nc.isClosed()) await nc.close().catch(() => undefined);
    await cp?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    cp = await startControlPlane(dir, [], () => undefined, {
      natsPort: await freePort(),
      apiAddr: `127.0.0.1:${await freePort()}`,
      // Hypervisors here run no agent: keep the status service from marking them down mid-test.
      statusEnv: { STATUS_AGENT_TIMEOUT_MS: String(24 * 3600_000) },
      ...(options.agents ? { agents: options.agents } : {}),
    });
    const plane = cp;
    const connectAs = async (user: string): Promise<NatsConnection> => {
      const pass = plane.passwords[user];
      if (pass === undefined) throw new Error(`no NATS user ${user} in this control plane`);
      const nc = await connect({ servers: plane.natsUrl, user, pass, ...(user === 'admin' ? {} : { inboxPrefix: `_INBOX_${user}` }), name: `neutron-stack-${user}` });
      connections.push(nc);
      return nc;
    };
    const tokens = new TokenTable();
    if (options.keystone) keystone = await KeystoneLogins.create(options.keystone.handle, options.keystone.validator);
    const validator: TokenValidator = keystone?.validator ?? tokens;
    server = await startNeutronServer({
      nc: await connectAs('neutron'),
      signer: new CommandSigner(plane.commandKeys.signingKey),
      validator,
      listen: `127.0.0.1:0`,
      logger: createLogger('neutron', process.env['STRATA_TEST_LOG_LEVEL'] === undefined ? 'warn' : (process.env['STRATA_TEST_LOG_LEVEL'] as 'info')),
      ...(options.resources ? { resources: options.resources } : {}),
      ...(options.http ? { http: options.http } : {}),
    });
    const url = server.url;
    if (options.keystone) await options.keystone.handle.registerService('network', 'neutron', url);
    const projects = new Map<string, string>();
    let operator: NatsConnection | undefined;
    return {
      url,
      controlPlane: plane,
      server,
      keystone,
      async login(project, user, role) {
        if (keystone) {
          const l = await keystone.login(project, user, role);
          return { token: l.token, projectId: l.projectId, userName: user, role };
        }
        let projectId = projects.get(project);
        if (projectId === undefined) projects.set(project, (projectId = randomBytes(16).toString('hex')));
        return { token: tokens.issue(user, projectId, role), projectId, userName: user, role };
      },
      async request(method, path, req = {}) {
        const headers: Record<string, string> = { ...req.headers };
        if (req.token !== undefined) headers['X-Auth-Token'] = req.token;
        let body: string | undefined;
        if (req.body !== undefined) {
          body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
          headers['Content-Type'] ??= 'application/json';
        }
        const res = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
        const text = await res.text();
        return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
      },
      connectAs,
      async lastSeq() {
        operator ??= await connectAs('admin');
        return (await (await operator.jetstreamManager()).streams.info('STRATA_EVENTS')).state.last_seq;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
