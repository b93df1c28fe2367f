/**
 * A throwaway OpenStack Keystone (Debian's `keystone` 22, Zed) for tests:
 * its own directory (config, sqlite database, fernet and credential keys),
 * `keystone-manage` db_sync and bootstrap, fernet and credential keys,
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
 * keystone-manage costs seconds per run (Python's imports): the database
 * after db_sync and bootstrap is made once per Keystone version into the
 * temporary directory and copied; each instance then gets its own fernet
 * and credential keys (32 random bytes each, urlsafe base64, as
 * fernet_setup writes them) and its identity endpoint's URL (the port).
 * The copies share the ids bootstrap chose (admin user, project, roles)
 * and the admin password (changing it would write a revocation event that
 * revokes every admin token issued in the same second); tokens do not
 * cross instances (the keys differ).
 *
 * Bootstrap creates the admin user and project, the roles admin, member and
 * reader (member implies reader, admin implies member), RegionOne and the
 * identity endpoint; the runner adds the `service` role and project that
 * service users (token validators) get.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onFreePort } from './free-port.js';
import { stopChild, watchServer } from './server-child.js';
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
[fernet_receipts]
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

/**
 * Exec argv[1:] with the parent-death signal set to SIGKILL (prctl
 * PR_SET_PDEATHSIG survives exec): a test process killed outright (a
 * timeout's SIGKILL) runs no exit hook, and the uwsgi master would
 * otherwise live on; its worker follows it (no-orphans). Same pid, so
 * stop() still signals uwsgi itself.
 */
const DIE_WITH_PARENT = `import ctypes, os, sys
ctypes.CDLL(None, use_errno=True).prctl(1, 9)
if os.getppid() == 1: sys.exit('the test process ended before uwsgi started')
os.execv(sys.argv[1], sys.argv[1:])`;

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

const manageIn = async (confFile: string, ...args: string[]): Promise<void> => {
  await run('/usr/bin/keystone-manage', ['--config-file', confFile, ...args], { env: PYTHON_ENV }).catch((err: { stderr?: string; message: string }) => {
    throw new Error(`keystone-manage ${args[0]} failed: ${(err.stderr ?? err.message).slice(-4000)}`);
  });
};

let databaseTemplate: Promise<string> | undefined;
/** The bootstrap admin's password (every instance's: a throwaway Keystone on loopback). */
const ADMIN_PASSWORD = 'strata-keystone-admin';
/** The identity endpoint's URL in the template; each instance sets its own. */
const TEMPLATE_IDENTITY_URL = 'http://127.0.0.1:1/v3';
/** Bump when what the template holds changes. */
const TEMPLATE_FORMAT = 2;

/**
 * A bootstrapped Keystone database (db_sync, bootstrap, WAL mode), made once
 * per Keystone package version into the temporary directory (an atomic
 * rename, so concurrent test files never copy a half-written one).
 */
function keystoneDatabase(): Promise<string> {
  return (databaseTemplate ??= (async () => {
    const version = (await run('dpkg-query', ['-W', '-f=${Version}', 'keystone']).catch(() => ({ stdout: '' }))).stdout.trim();
    if (!version) throw new Error("Debian's keystone package is not installed (scripts/setup.sh installs it)");
    const dir = join(tmpdir(), 'strata-keystone-template');
    const db = join(dir, `keystone-${version.replace(/[^A-Za-z0-9.+-]/g, '_')}-${TEMPLATE_FORMAT}.db`);
    if (existsSync(db)) return db;
    mkdirSync(dir, { recursive: true });
    const work = mkdtempSync(join(dir, 'partial-'));
    try {
      const conf = join(work, 'keystone.conf');
      // Key repositories of its own: without them keystone-manage bootstrap (Debian 2:22.0.2-0+deb12u6) checks
      // /etc/keystone/fernet-keys/ (the receipts' default too), absent on a fresh machine: every Keystone test failed so.
      writeFernetKeys(join(work, 'fernet-keys'));
      writeFernetKeys(join(work, 'credential-keys'));
      writeFileSync(
        conf,
        `[DEFAULT]\nuse_stderr = true\n[database]\nconnection = sqlite:///${join(work, 'keystone.db')}\n[identity]\npassword_hash_rounds = 4\n` +
          `[fernet_tokens]\nkey_repository = ${join(work, 'fernet-keys')}\n[fernet_receipts]\nkey_repository = ${join(work, 'fernet-keys')}\n[credential]\nkey_repository = ${join(work, 'credential-keys')}\n`,
      );
      await manageIn(conf, 'db_sync');
      await manageIn(
        conf,
        'bootstrap',
        '--bootstrap-password', ADMIN_PASSWORD,
        '--bootstrap-username', 'admin',
        '--bootstrap-project-name', 'admin',
        '--bootstrap-role-name', 'admin',
        '--bootstrap-region-id', 'RegionOne',
        '--bootstrap-public-url', TEMPLATE_IDENTITY_URL,
      );
      // WAL is a property of the database file: set once, every later connection (and every copy) uses it.
      // The checkpoint leaves everything in the main file, which is all that is copied.
      await run(
        '/usr/bin/python3',
        ['-c', `import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.close()`, join(work, 'keystone.db')],
        { env: PYTHON_ENV },
      );
      renameSync(join(work, 'keystone.db'), db);
      return db;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  })().catch((err: unknown) => {
    databaseTemplate = undefined;
    throw err;
  }));
}

/** Point the copy's identity endpoint at this instance's port. */
async function adoptTemplate(url: string): Promise<void> {
  const token = (await issueToken(url, { user: 'admin', password: ADMIN_PASSWORD, project: 'admin' })).token;
  const api = new KeystoneAdmin(url, () => Promise.resolve(token));
  const { endpoints } = await api.call<{ endpoints: { id: string; url: string }[] }>('GET', '/v3/endpoints?interface=public', undefined, 200);
  const identity = endpoints.find((e) => e.url === TEMPLATE_IDENTITY_URL);
  if (!identity) throw new Error(`the Keystone template has no identity endpoint ${TEMPLATE_IDENTITY_URL}`);
  await api.call('PATCH', `/v3/endpoints/${identity.id}`, { endpoint: { url: `${url}/v3` } }, 200);
}

/** A fernet key repository as `keystone-manage fernet_setup` leaves it: a staged key 0 and a primary key 1. */
function writeFernetKeys(dir: string): void {
  mkdirSync(dir, { mode: 0o700 });
  for (const name of ['0', '1']) {
    const key = randomBytes(32).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
    writeFileSync(join(dir, name), key, { mode: 0o600 });
  }
}

/** Start a fresh Keystone with an admin user, project and role; the caller stops it. */
export async function startKeystone(opts: KeystoneOptions = {}): Promise<KeystoneHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-keystone-'));
  const confFile = join(dir, 'keystone.conf');
  let child: ChildProcess | undefined;
  let log = '';
  let port = 0;
  let stopped = false;

  const terminate = (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    return stopChild(proc, signal);
  };

  const launch = async (p: number): Promise<void> => {
    const proc = spawn('/usr/bin/python3', ['-c', DIE_WITH_PARENT, '/usr/bin/uwsgi', ...uwsgiArgs(p)], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...PYTHON_ENV, OS_KEYSTONE_CONFIG_FILES: confFile },
    });
    child = proc;
    const server = watchServer(proc, dir, (text) => (log = (log + text).slice(-LOG_LIMIT)));
    const timeout = opts.startTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeout;
    for (;;) {
      if (server.exited()) throw new KeystoneExited(log);
      const ready = await fetch(`http://127.0.0.1:${p}/v3`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`Keystone did not answer within ${timeout} ms:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  try {
    writeFernetKeys(join(dir, 'fernet-keys'));
    writeFernetKeys(join(dir, 'credential-keys'));
    writeFileSync(join(dir, 'policy.yaml'), '{}\n');
    writeFileSync(confFile, keystoneConf(dir, opts.tokenExpirationSeconds ?? 3600));
    copyFileSync(await keystoneDatabase(), join(dir, 'keystone.db'));
    port = await onFreePort(launch, () => terminate('SIGKILL'), (err) => err instanceof KeystoneExited && /bind|address already in use/i.test(err.logs));
    await adoptTemplate(`http://127.0.0.1:${port}`);
  } catch (err) {
    await terminate('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const url = `http://127.0.0.1:${port}`;
  const admin = { user: 'admin', password: ADMIN_PASSWORD, project: 'admin' };
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
