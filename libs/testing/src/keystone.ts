/**
 * A throwaway OpenStack Keystone (Debian's `keystone` 22, Zed) for tests:
 * its own directory (config, sqlite database, fernet and credential keys),
 * `keystone-manage` db_sync / fernet_setup / credential_setup / bootstrap,
 * then uwsgi serving keystone-wsgi-public on a free loopback port, stopped by
 * PID in stop() — and by an exit hook if the test process ends without it.
 *
 * Each setting below answers a gotcha reproduced on this machine
 * (../shared/notes.md "Keystone and the `openstack` client"):
 * - sqlite in WAL mode, or concurrent writes fail with "database is locked"
 *   (an HTTP 500 with an empty body);
 * - one uwsgi worker with one thread (sqlite, and the in-memory cache below
 *   is per process);
 * - dogpile's in-memory cache, or each request costs ~230 ms;
 * - every response closes its connection: uwsgi's http-socket resets a few
 *   per cent of kept-alive connections otherwise;
 * - die-on-term, or SIGTERM only reloads uwsgi;
 * - bcrypt at its minimum cost (4 rounds): passwords here protect nothing;
 * - /usr/bin/python3's libraries (keystone-manage and the uwsgi plugin use
 *   them; a `python3` earlier on PATH lacks OpenStack's libraries).
 *
 * Bootstrap creates the admin user and project, the roles admin, member and
 * reader (member implies reader, admin implies member), RegionOne and the
 * identity endpoint; the runner adds the `service` role and project that
 * service users (token validators) get.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { forgetOnExit, killOnExit } from './exit-cleanup.js';
import { freePort } from './free-port.js';
import { issueToken, KeystoneAdmin, type IssuedToken, type Named, type PasswordCredentials } from './keystone-rest.js';

const run = promisify(execFile);

export interface KeystoneOptions {
  /** Lifetime of every token Keystone issues, seconds ([token] expiration; default 3600). */
  tokenExpirationSeconds?: number;
  /** How long to wait for Keystone to answer (default 60 s). */
  startTimeoutMs?: number;
}

/** A user with a role on a project, ready to authenticate. */
export interface ProjectUser {
  user: Named;
  password: string;
  project: Named;
  role: string;
}

export interface KeystoneHandle {
  /** `http://127.0.0.1:<port>` (the identity API is under /v3: OS_AUTH_URL is `${url}/v3`). */
  url: string;
  port: number;
  /** The bootstrap admin (user `admin`, project `admin`, role admin). */
  admin: { user: string; password: string; project: string };
  /** Keystone's admin REST API under an admin token: projects, users, roles, tokens, the catalog. */
  api: KeystoneAdmin;
  readonly pid: number | undefined;
  createProject(name: string): Promise<Named>;
  createUser(name: string, password: string): Promise<Named>;
  assignRole(userId: string, projectId: string, role: string): Promise<void>;
  /** A new project, a new user in it with `role` (admin, member, reader, ...). */
  createProjectUser(projectName: string, userName: string, role: string): Promise<ProjectUser>;
  /** A user with the `service` role on project `service`: what a service validating tokens runs as. */
  createServiceUser(name: string): Promise<ProjectUser>;
  /** Password authentication (domain default), scoped to `project` when given. */
  issueToken(creds: PasswordCredentials): Promise<IssuedToken>;
  revokeToken(token: string): Promise<void>;
  /** Put a service (e.g. type `network`, name `neutron`) with its public endpoint into the catalog. */
  registerService(type: string, name: string, url: string): Promise<{ serviceId: string; endpointId: string }>;
  /** SIGTERM the uwsgi master (SIGKILL after 10 s), then remove the directory. Idempotent. */
  stop(): Promise<void>;
  /** The last few KiB of uwsgi's and Keystone's output, for failure messages. */
  logs(): string;
}

const LOG_LIMIT = 64 * 1024;
const PYTHON_ENV = { PATH: `/usr/bin:/bin:/usr/sbin:/sbin`, LANG: 'C.UTF-8' };

function keystoneConf(dir: string, expiration: number): string {
  return `[DEFAULT]
use_stderr = true
[database]
connection = sqlite:///${join(dir, 'keystone.db')}
[fernet_tokens]
key_repository = ${join(dir, 'fernet-keys')}
[credential]
key_repository = ${join(dir, 'credential-keys')}
[identity]
password_hash_rounds = 4
[token]
expiration = ${expiration}
[cache]
enabled = true
backend = dogpile.cache.memory
[catalog]
driver = sql
[oslo_policy]
policy_file = ${join(dir, 'policy.yaml')}
`;
}

function uwsgiArgs(port: number): string[] {
  return [
    '--plugins', 'python3',
    '--http-socket', `127.0.0.1:${port}`,
    '--wsgi-file', '/usr/bin/keystone-wsgi-public',
    '--master', '--processes', '1', '--threads', '1',
    '--die-on-term', '--no-orphans',
    '--buffer-size', '65535',
    '--add-header', 'Connection: close',
  ];
}

/** Start a fresh Keystone with an admin user, project and role; the caller stops it. */
export async function startKeystone(opts: KeystoneOptions = {}): Promise<KeystoneHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-keystone-'));
  const confFile = join(dir, 'keystone.conf');
  const adminPassword = `admin-${Math.random().toString(36).slice(2)}`;
  let child: ChildProcess | undefined;
  let log = '';
  let port = 0;
  let stopped = false;

  const manage = async (...args: string[]): Promise<void> => {
    await run('/usr/bin/keystone-manage', ['--config-file', confFile, ...args], { env: PYTHON_ENV }).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`keystone-manage ${args[0]} failed: ${(err.stderr ?? err.message).slice(-4000)}`);
    });
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const escalate = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(escalate);
  };

  const launch = async (p: number): Promise<void> => {
    const proc = spawn('/usr/bin/uwsgi', uwsgiArgs(p), {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...PYTHON_ENV, OS_KEYSTONE_CONFIG_FILES: confFile },
    });
    child = proc;
    killOnExit(proc, dir);
    const onData = (chunk: Buffer): void => {
      log = (log + chunk.toString()).slice(-LOG_LIMIT);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    let exited = false;
    proc.once('exit', () => {
      exited = true;
      forgetOnExit(proc);
    });
    const timeout = opts.startTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeout;
    for (;;) {
      if (exited) throw new KeystoneExited(log);
      const ready = await fetch(`http://127.0.0.1:${p}/v3`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`Keystone did not answer within ${timeout} ms:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const bootstrap = (p: number): Promise<void> =>
    manage(
      'bootstrap',
      '--bootstrap-password', adminPassword,
      '--bootstrap-username', 'admin',
      '--bootstrap-project-name', 'admin',
      '--bootstrap-role-name', 'admin',
      '--bootstrap-region-id', 'RegionOne',
      '--bootstrap-public-url', `http://127.0.0.1:${p}/v3`,
    );

  try {
    mkdirSync(join(dir, 'fernet-keys'));
    mkdirSync(join(dir, 'credential-keys'));
    writeFileSync(join(dir, 'policy.yaml'), '{}\n');
    writeFileSync(confFile, keystoneConf(dir, opts.tokenExpirationSeconds ?? 3600));
    await manage('db_sync');
    // WAL is a property of the database file: set once, every later connection uses it.
    await run('/usr/bin/python3', ['-c', `import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA journal_mode=WAL').fetchone()[0])`, join(dir, 'keystone.db')], { env: PYTHON_ENV });
    const user = String(process.getuid?.() ?? 0);
    const group = String(process.getgid?.() ?? 0);
    await manage('fernet_setup', '--keystone-user', user, '--keystone-group', group);
    await manage('credential_setup', '--keystone-user', user, '--keystone-group', group);
    // A free port can be taken between freePort() and the bind: retry a few times
    // (bootstrap again: the identity endpoint names the port).
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      await bootstrap(port);
      try {
        await launch(port);
        break;
      } catch (err) {
        await terminate('SIGKILL');
        if (err instanceof KeystoneExited && /bind|address already in use/i.test(err.logs) && attempt < 5) continue;
        throw err;
      }
    }
  } catch (err) {
    await terminate('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const url = `http://127.0.0.1:${port}`;
  const admin = { user: 'admin', password: adminPassword, project: 'admin' };
  // One admin token, renewed when less than half its lifetime is left (tests may run Keystone with seconds-long tokens).
  let adminToken: IssuedToken | undefined;
  let adminTokenIssuedAt = 0;
  const currentAdminToken = async (): Promise<string> => {
    const now = Date.now();
    if (!adminToken || now > adminTokenIssuedAt + (adminToken.expiresAt - adminTokenIssuedAt) / 2) {
      adminTokenIssuedAt = now;
      adminToken = await issueToken(url, admin);
    }
    return adminToken.token;
  };
  const api = new KeystoneAdmin(url, currentAdminToken);

  const projectNamed = async (name: string): Promise<Named> => {
    const r = await api.call<{ projects: Named[] }>('GET', `/v3/projects?name=${encodeURIComponent(name)}`, undefined, 200);
    return r.projects[0] ?? (await api.createProject(name));
  };
  let serviceSetup: Promise<Named> | undefined;
  const serviceProject = (): Promise<Named> =>
    (serviceSetup ??= (async () => {
      await api.createRole('service');
      return projectNamed('service');
    })());

  const handle: KeystoneHandle = {
    url,
    port,
    admin,
    api,
    get pid() {
      return child?.pid;
    },
    createProject: (name) => api.createProject(name),
    createUser: (name, password) => api.createUser(name, password),
    assignRole: (userId, projectId, role) => api.assignRole(userId, projectId, role),
    async createProjectUser(projectName, userName, role) {
      const project = await api.createProject(projectName);
      const password = `pw-${Math.random().toString(36).slice(2)}`;
      const user = await api.createUser(userName, password);
      await api.assignRole(user.id, project.id, role);
      return { user, password, project, role };
    },
    async createServiceUser(name) {
      const project = await serviceProject();
      const password = `pw-${Math.random().toString(36).slice(2)}`;
      const user = await api.createUser(name, password);
      await api.assignRole(user.id, project.id, 'service');
      return { user, password, project, role: 'service' };
    },
    issueToken: (creds) => issueToken(url, creds),
    revokeToken: (token) => api.revokeToken(token),
    registerService: (type, name, endpointUrl) => api.registerService(type, name, endpointUrl),
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    logs: () => log,
  };
  return handle;
}

class KeystoneExited extends Error {
  constructor(readonly logs: string) {
    super(`uwsgi (Keystone) exited during startup:\n${logs}`);
  }
}
