/**
 * The integration-test stack of the Neutron service: a real Keystone
 * (startKeystone: Debian's keystone under uwsgi), the control plane as
 * production runs it (startControlPlane: nats-server with the production
 * users, ipam x2, secgroup, nat, chaining, status, audit as real
 * processes) and the Neutron REST service, connected as its own NATS user
 * `neutron`, signing like the api, validating tokens with Keystone
 * (KeystoneValidator) under its own service user, on a free loopback port,
 * registered in Keystone's catalog as the `network` service.
 *
 * By default the service is the real process (services/neutron/dist/main.js
 * serving every module of resources/index.ts: build first). With
 * `resources`, it runs in this process serving exactly those modules (a
 * module's tests before it is registered, or the core's own probe).
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
import { connect, type NatsConnection } from 'nats';
import { KeystoneValidator, keystoneValidatorConfigSchema, type Role } from '@strata/identity';
import { NO_AGENTS_STATUS_ENV, startControlPlane, type ControlPlane } from '@strata/lab';
import { CommandSigner, createLogger, type LogLevel } from '@strata/runtime';
import { freePort, startKeystone, waitFor, type KeystoneHandle, type KeystoneOptions, type Named } from '@strata/testing';
import type { ResourceDefinition } from '../resource.js';
import { startNeutronServer, type HttpLimits, type NeutronServer } from '../server.js';

export interface StackLogin {
  token: string;
  /** The Keystone project id: the Strata tenant. */
  projectId: string;
  projectName: string;
  userName: string;
  password: string;
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
  keystone: KeystoneHandle;
  controlPlane: ControlPlane;
  /** The in-process server, its clients and port (with the `resources` option; without, reading it throws: the service is a process). */
  readonly server: NeutronServer;
  /**
   * A fresh token for `user` with `role` on `project`: the project and the
   * user are created in Keystone on first use, the role assigned (a user may
   * hold roles on several projects).
   */
  login(project: string, user: string, role: Role): Promise<StackLogin>;
  /** An HTTP request to the Neutron endpoint; `path` starts with `/`. */
  request(method: string, path: string, req?: StackRequest): Promise<StackResponse>;
  /** The stock `openstack` CLI's environment for a login (password authentication; the catalog finds Neutron). */
  cliEnv(login: StackLogin): Record<string, string>;
  /** Connect as a production NATS user (e.g. `admin` for the operator's checks). */
  connectAs(user: string): Promise<NatsConnection>;
  /** The event log's last sequence as the operator sees it, once every consumer of the log has settled (see writtenBy). */
  lastSeq(): Promise<number>;
  /**
   * The types of the events after `since` that carry `response`'s request id
   * (its X-Openstack-Request-Id) as their correlation id: what the request
   * wrote, and what reactors wrote because of it. A refused request must
   * have written none. Counting by correlation, not by the log's length,
   * leaves out the late reactions to earlier requests (a gateway's SNAT
   * address, a port's default group), which may land at any moment.
   */
  writtenBy(response: StackResponse, since: number): Promise<string[]>;
  stop(): Promise<void>;
}

export interface NeutronStackOptions {
  /** Serve exactly these modules from an in-process server (default: the real process, every registered module). */
  resources?: readonly ResourceDefinition[];
  /** Hypervisors to provision (agent users and host-view buckets). */
  agents?: readonly string[];
  /** The in-process server's connection limits (default: production's). */
  http?: Partial<HttpLimits>;
  /** Keystone's settings (e.g. a short token lifetime). */
  keystone?: KeystoneOptions;
  /** How often the service polls Keystone's revocation events (default 0.5 s, so a revoked token is refused quickly). */
  revocationPollSeconds?: number;
  /** The longest the service trusts a validation without asking Keystone again (default: the validator's, 300 s). */
  tokenCacheSeconds?: number;
}

/** Keystone and eight service processes on a loaded two-core machine: give a suite's beforeAll this long. */
export const STACK_START_MS = 300_000;

const logLevel = (): LogLevel => (process.env['STRATA_TEST_LOG_LEVEL'] as LogLevel | undefined) ?? 'warn';

export async function startNeutronStack(options: NeutronStackOptions = {}): Promise<NeutronStack> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-neutron-'));
  const connections: NatsConnection[] = [];
  let keystone: KeystoneHandle | undefined;
  let cp: ControlPlane | undefined;
  let server: NeutronServer | undefined;
  let validator: KeystoneValidator | undefined;
  const stop = async (): Promise<void> => {
    await server?.stop().catch(() => undefined);
    await validator?.stop().catch(() => undefined);
    for (const nc of connections) if (!nc.isClosed()) await nc.close().catch(() => undefined);
    await cp?.stop().catch(() => undefined);
    await keystone?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    keystone = await startKeystone(options.keystone ?? {});
    const ks = keystone;
    const svc = await ks.createServiceUser('neutron');
    const poll = String(options.revocationPollSeconds ?? 0.5);
    const listen = `127.0.0.1:${await freePort()}`;
    cp = await startControlPlane(dir, [], () => undefined, {
      natsPort: await freePort(),
      apiAddr: `127.0.0.1:${await freePort()}`,
      // Hypervisors here run no agent: keep the status service from marking them down mid-test.
      statusEnv: NO_AGENTS_STATUS_ENV,
      // Port status comes from hostview's positions: without hostview every port read waits for it, then says UNKNOWN.
      hostview: true,
      ...(options.agents ? { agents: options.agents } : {}),
      ...(options.resources
        ? {}
        : {
            neutron: {
              listen,
              keystoneUrl: ks.url,
              serviceUser: svc.user.name,
              servicePassword: svc.password,
              env: { KEYSTONE_REVOCATION_POLL_SECONDS: poll, ...(options.tokenCacheSeconds === undefined ? {} : { KEYSTONE_TOKEN_CACHE_SECONDS: String(options.tokenCacheSeconds) }) },
            },
          }),
    });
    const plane = cp;
    const connectAs = async (user: string): Promise<NatsConnection> => {
      const pass = plane.passwords[user];
      if (pass === undefined) throw new Error(`no NATS user ${user} in this control plane`);
      const nc = await connect({ servers: plane.natsUrl, user, pass, ...(user === 'admin' ? {} : { inboxPrefix: `_INBOX_${user}` }), name: `neutron-stack-${user}` });
      connections.push(nc);
      return nc;
    };
    let url: string;
    if (options.resources) {
      validator = new KeystoneValidator(
        keystoneValidatorConfigSchema.parse({ url: ks.url, serviceUser: svc.user.name, servicePassword: svc.password, revocationPollSeconds: Number(poll), ...(options.tokenCacheSeconds === undefined ? {} : { cacheMaxSeconds: options.tokenCacheSeconds }) }),
      ).start();
      server = await startNeutronServer({
        nc: await connectAs('neutron'),
        signer: new CommandSigner(plane.commandKeys.signingKey),
        validator,
        listen: '127.0.0.1:0',
        logger: createLogger('neutron', logLevel()),
        wwwAuthenticateUri: ks.url,
        resources: options.resources,
        ...(options.http ? { http: options.http } : {}),
      });
      url = server.url;
    } else {
      url = plane.neutronUrl!;
    }
    await ks.registerService('network', 'neutron', url);

    const projects = new Map<string, Named>();
    const users = new Map<string, { user: Named; password: string }>();
    const assigned = new Set<string>();
    let operator: NatsConnection | undefined;
    const inProcess = server;
    return {
      url,
      keystone: ks,
      controlPlane: plane,
      get server(): NeutronServer {
        if (!inProcess) throw new Error('the Neutron service runs as a process in this stack: start it with `resources` to have it in this process');
        return inProcess;
      },
      async login(projectName, userName, role) {
        let project = projects.get(projectName);
        if (!project) projects.set(projectName, (project = await ks.createProject(projectName)));
        let u = users.get(userName);
        if (!u) {
          const password = `pw-${userName}-${Math.random().toString(36).slice(2)}`;
          users.set(userName, (u = { user: await ks.createUser(userName, password), password }));
        }
        const assignment = `${u.user.id}/${project.id}/${role}`;
        if (!assigned.has(assignment)) {
          await ks.assignRole(u.user.id, project.id, role);
          assigned.add(assignment);
        }
        const issued = await ks.issueToken({ user: userName, password: u.password, project: projectName });
        return { token: issued.token, projectId: project.id, projectName, userName, password: u.password, role };
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
      cliEnv(login) {
        return {
          OS_AUTH_URL: `${ks.url}/v3`,
          OS_IDENTITY_API_VERSION: '3',
          OS_USERNAME: login.userName,
          OS_PASSWORD: login.password,
          OS_PROJECT_NAME: login.projectName,
          OS_USER_DOMAIN_NAME: 'Default',
          OS_PROJECT_DOMAIN_NAME: 'Default',
          OS_INTERFACE: 'public',
          OS_REGION_NAME: 'RegionOne',
        };
      },
      connectAs,
      async lastSeq() {
        operator ??= await connectAs('admin');
        const jsm = await operator.jetstreamManager();
        const unsettled: string[] = [];
        // Settled: every consumer of the log (reactors, projections) has handled all it was given, and the
        // log did not grow meanwhile. A reaction to an earlier request (a port's default group) is then
        // in the log before the count starts, and one a refused request caused is in it when the count ends.
        const settled = async (): Promise<number | undefined> => {
          const last = (await jsm.streams.info('STRATA_EVENTS')).state.last_seq;
          unsettled.length = 0;
          for await (const c of jsm.consumers.list('STRATA_EVENTS')) if (c.num_pending > 0 || c.num_ack_pending > 0) unsettled.push(c.name);
          return unsettled.length === 0 && (await jsm.streams.info('STRATA_EVENTS')).state.last_seq === last ? last : undefined;
        };
        try {
          return (await waitFor(settled, { timeoutMs: 15_000, intervalMs: 20, message: "the log's consumers to settle" }))!;
        } catch (err) {
          throw new Error(`${(err as Error).message}; behind: ${unsettled.join(', ')}`);
        }
      },
      async writtenBy(response, since) {
        const correlationId = response.headers.get('x-openstack-request-id');
        if (correlationId === null) throw new Error('the response has no X-Openstack-Request-Id');
        operator ??= await connectAs('admin');
        const jsm = await operator.jetstreamManager();
        const last = (await jsm.streams.info('STRATA_EVENTS')).state.last_seq;
        const types: string[] = [];
        for (let seq = since + 1; seq <= last; seq++) {
          const event = (await jsm.streams.getMessage('STRATA_EVENTS', { seq })).json<{ type: string; correlationId: string }>();
          if (event.correlationId === correlationId) types.push(event.type);
        }
        return types;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
