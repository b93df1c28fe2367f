/**
 * nats-server with Strata's production users and permissions: the accounts
 * rendered by infra/nats/render-accounts.mjs (for the given hypervisors),
 * each user with a fresh random password. Integration tests and labs use
 * it so they run with the same permissions as production, no admin
 * shortcut: each process connects as its own user (`env(user)`), the test
 * as whichever user it plays (`connect(user)`, `admin` for the operator's
 * checks). The operator's streams are not created here: see provisionStreams
 * in @strata/lab.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import { startNatsCluster, type NatsCluster } from './nats-cluster.js';
import { natsClientTls, startNatsServer, type NatsServerHandle, type NatsServerOptions } from './nats-server.js';

const RENDER = fileURLToPath(new URL('../../../infra/nats/render-accounts.mjs', import.meta.url));

/** The service users render-accounts.mjs always has. */
export const SERVICE_USERS = ['admin', 'ipam', 'api', 'neutron', 'secgroup', 'nat', 'chaining', 'status', 'audit', 'bgp', 'vtep', 'hostview', 'kafka-exporter', 'pg-projector'] as const;

export interface StrataNatsOptions extends Pick<NatsServerOptions, 'binary' | 'startTimeoutMs' | 'port' | 'tls'> {
  /** Hypervisor ids: one agent user each (`agent-<host>`), and hostview's grants on their buckets. */
  agents?: readonly string[];
  /**
   * Run a cluster of this many servers (routes, JetStream on each: see
   * startNatsCluster) instead of one server; `url` then lists them all.
   */
  clusterSize?: number;
}

export interface StrataNats {
  /** The server; in a cluster, the first node's. */
  server: NatsServerHandle;
  /** With `clusterSize`: the cluster (stopNode/killNode/startNode, each node's ports). */
  cluster?: NatsCluster;
  /** The server's URL; in a cluster every node's, comma-separated (NATS_URL's form). */
  url: string;
  /** Every user's password (service users by name, agents as `agent-<host>`). */
  passwords: Readonly<Record<string, string>>;
  /** Connection options of a user: its password and the inbox prefix its permissions allow. */
  options(user: string): ConnectionOptions;
  /** A process's environment to connect as `user` (NATS_URL, NATS_USER, NATS_PASSWORD; with TLS, NATS_TLS_CA and the harness's client certificate). */
  env(user: string): Record<string, string>;
  /** Connect as `user`; closed by stop(). */
  connect(user: string): Promise<NatsConnection>;
  /** Close the connections made by connect() and stop the server. */
  stop(): Promise<void>;
}

/** The password variable render-accounts.mjs reads for a user. */
function passwordVar(user: string): string {
  const name = user.startsWith('agent-') ? `AGENT_${user.slice('agent-'.length)}` : user;
  return `STRATA_NATS_${name.toUpperCase().replaceAll('-', '_')}_PASSWORD`;
}

export async function startStrataNats(opts: StrataNatsOptions = {}): Promise<StrataNats> {
  const agents = opts.agents ?? [];
  // The accounts grow with the hypervisors (a user per agent, and hostview's publish list names every host's
  // bucket): 1.4 MB at 1,000 hosts, past execFileSync's default buffer of 1 MiB.
  const config = execFileSync(process.execPath, [RENDER, ...(agents.length > 0 ? ['--agents', agents.join(',')] : [])], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  const users = [...SERVICE_USERS, ...agents.map((h) => `agent-${h}`)];
  // Not all digits: nats-server parses a variable's value, and a number is not a password.
  const passwords = Object.fromEntries(users.map((u) => [u, `p${randomBytes(16).toString('hex')}`]));
  const env = Object.fromEntries(users.map((u) => [passwordVar(u), passwords[u]!]));
  const { agents: _agents, clusterSize, ...serverOpts } = opts;
  let server: NatsServerHandle;
  let cluster: NatsCluster | undefined;
  if (clusterSize === undefined) {
    server = await startNatsServer({ ...serverOpts, config, env });
  } else {
    if (opts.port !== undefined) throw new Error('a cluster runs on free ports: `port` and `clusterSize` cannot be given together');
    const { port: _port, ...clusterOpts } = serverOpts;
    cluster = await startNatsCluster({ ...clusterOpts, size: clusterSize, config, env });
    server = cluster.nodes[0]!.server;
  }
  const url = cluster?.url ?? server.url;
  const tls = opts.tls && natsClientTls(opts.tls);
  const options = (user: string): ConnectionOptions => {
    const pass = passwords[user];
    if (pass === undefined) throw new Error(`no NATS user ${user} (users: ${users.join(', ')})`);
    return { servers: url.split(','), user, pass, ...(user === 'admin' ? {} : { inboxPrefix: `_INBOX_${user}` }), ...(tls ? { tls } : {}) };
  };
  const tlsEnv: Record<string, string> = opts.tls
    ? { NATS_TLS_CA: opts.tls.ca, ...(opts.tls.client ? { NATS_TLS_CERT: opts.tls.client.cert, NATS_TLS_KEY: opts.tls.client.key } : {}) }
    : {};
  const connections: NatsConnection[] = [];
  return {
    server,
    ...(cluster ? { cluster } : {}),
    url,
    passwords,
    options,
    env: (user) => ({ NATS_URL: url, NATS_USER: user, NATS_PASSWORD: options(user).pass!, ...tlsEnv }),
    async connect(user) {
      const nc = await connect({ ...options(user), name: `test-${user}` });
      connections.push(nc);
      return nc;
    },
    async stop() {
      for (const nc of connections) if (!nc.isClosed()) await nc.close().catch(() => undefined);
      await (cluster ?? server).stop();
    },
  };
}
