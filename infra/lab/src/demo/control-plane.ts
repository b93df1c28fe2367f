/**
 * The control plane as an operator runs it: nats-server with the users and
 * permissions of infra/nats, two IPAM instances, the security-group, NAT, chaining, status and audit services, the vtep controller and the gRPC API
 * (and, on request, the Neutron REST service against a given Keystone), each
 * connecting as its own NATS user. Ports are fixed (4222 NATS, 7443 API) so
 * the README's CLI instructions work; a port in use is a clear error.
 */
import { randomBytes, createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMAND_SERVICES, commandVerifyEntry, generateCommandKeys, type CommandKeyPair } from '@strata/runtime';
import type { TlsOptions } from 'nats';
import { NATS_REPLICAS_VAR, natsReplicas } from '@strata/eventlog';
import { natsClientTls, startPostgres, type NatsCluster, type Pki, type PostgresHandle, type StrataNats } from '@strata/testing';
import { startProvisionedNats } from '../provision.js';
import { startProcess, type ManagedProcess } from '../process.js';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface ControlPlane {
  /** The NATS server's URL; on a cluster every node's, comma-separated (as every service is given it). */
  natsUrl: string;
  /** With `natsCluster`: the cluster, to stop, kill and restart its nodes. */
  cluster?: NatsCluster;
  apiAddr: string;
  /** With the `neutron` option: the Neutron v2.0 endpoint, `http://host:port` (no trailing slash). */
  neutronUrl?: string;
  tokens: Record<string, string>;
  /** Each NATS user's password (admin, ipam, api, hostview, secgroup, nat, chaining, status, audit, bgp, vtep, `agent-<host>` of each provisioned hypervisor): hostile tests connect as a service. */
  passwords: Record<string, string>;
  /** A process's environment to connect as `user` (NATS_URL with every server, NATS_USER, NATS_PASSWORD, TLS settings): e.g. an agent's, as `agent-<host>`. */
  natsEnv(user: string): Record<string, string>;
  /**
   * The api's master secret (tests authenticate their own requests with it) and every service's
   * verify entry in one STRATA_COMMAND_VERIFY_KEYS value (a service uses only its own entry).
   */
  commandKeys: CommandKeyPair;
  processes: ManagedProcess[];
  /** Stop a service process (gracefully) and start it again with the same environment plus `env`. */
  restart(name: string, env?: Record<string, string>): Promise<ManagedProcess>;
  /** With `postgres`: the read model's database (schema `strata`), written by two pg-projectors. */
  postgres?: PostgresHandle;
  /**
   * How the CLI reaches this API: STRATA_CA (and STRATA_CERT/STRATA_KEY with mutual TLS) with the `tls`
   * option, STRATA_PLAINTEXT=1 without. Spread into the CLI's environment beside STRATA_SERVER.
   */
  cliEnv: Record<string, string>;
  /** With the `tls` option: what a NATS client adds to connect (the CA; with natsVerify, the client certificate). */
  natsTls?: TlsOptions;
  /** The last few KiB of nats-server's log (its refusals: TLS handshakes, authorization, permissions). */
  natsLogs(): string;
  stop(): Promise<void>;
}

// Letters first: nats-server's config parser reads a value starting with a digit as a number.
const secret = (): string => `s${randomBytes(16).toString('hex')}`;
const sha256 = (t: string): string => createHash('sha256').update(t).digest('hex');

/**
 * The status service's environment for a plane whose registered hypervisors run no agent (tests that need
 * hypervisors only for their VTEPs): with its default timeout the status service marks them down on its own
 * clock, which is an event in the middle of the tests' "nothing was written" checks. Liveness has its own
 * tests (services/status, test/status).
 */
export const NO_AGENTS_STATUS_ENV: Readonly<Record<string, string>> = { STATUS_AGENT_TIMEOUT_MS: String(24 * 3600_000) };

export interface ControlPlaneOptions {
  /** nats-server's port; default $STRATA_DEMO_NATS_PORT, then 4222 (the README's). Tests pass a free port. Not with natsCluster. */
  natsPort?: number;
  /**
   * Run on a NATS cluster of this many servers (free ports) instead of one
   * server; every service is given every server's URL.
   */
  natsCluster?: number;
  /** Replicas of every stream and bucket (STRATA_NATS_REPLICAS, given to every service too); default this process's STRATA_NATS_REPLICAS. */
  natsReplicas?: number;
  /** The gRPC API's address; default $STRATA_DEMO_API_ADDR, then 127.0.0.1:7443. */
  apiAddr?: string;
  /** Extra environment for the API process (e.g. shortened STRATA_GRPC_* transport limits in hostile tests). */
  apiEnv?: Record<string, string>;
  /** Hypervisors to provision: an agent user and a host-view bucket each (hostview writes only provisioned buckets). */
  agents?: readonly string[];
  /** Extra environment for the status service (e.g. its liveness timeout). */
  statusEnv?: Record<string, string>;
  /** Also run hostview: the status service then answers port status from hostview's positions (without it every status read waits for hostview and answers UNKNOWN). */
  hostview?: boolean;
  /** Also run the PostgreSQL read model: a throwaway PostgreSQL and two pg-projectors (active and standby). */
  postgres?: boolean;
  /** Also run the Neutron REST service (NATS user neutron), validating tokens with this Keystone. */
  neutron?: NeutronOptions;
  /** TLS on every connection: nats-server, the gRPC API and Neutron serve `pki.server`; everyone verifies against `pki.ca`. */
  tls?: ControlPlaneTls;
}

export interface ControlPlaneTls {
  /** makePki()'s files (@strata/testing). */
  pki: Pick<Pki, 'ca' | 'server' | 'client'>;
  /** nats-server requires a client certificate of the CA (`verify: true`); every service presents `pki.client`. */
  natsVerify?: boolean;
  /** The API requires a client certificate of the CA (STRATA_API_TLS_CLIENT_CA: mutual TLS); cliEnv carries `pki.client`. */
  apiMutual?: boolean;
}

export interface NeutronOptions {
  /** host:port to listen on (a free port in tests). */
  listen: string;
  /** Keystone's URL and the service user that validates tokens (it needs the `service` or admin role). */
  keystoneUrl: string;
  serviceUser: string;
  servicePassword: string;
  /** Extra environment for the Neutron process (e.g. STRATA_NEUTRON_PUBLIC_URL, KEYSTONE_REVOCATION_POLL_SECONDS). */
  env?: Record<string, string>;
}

export async function startControlPlane(
  dir: string,
  tenants: string[],
  log: (line: string) => void,
  options: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  mkdirSync(dir, { recursive: true });
  if (options.natsCluster !== undefined && options.natsPort !== undefined) throw new Error('natsPort and natsCluster cannot be given together: a cluster runs on free ports');
  const natsPort = options.natsPort ?? Number(process.env['STRATA_DEMO_NATS_PORT'] ?? 4222);
  const replicas = options.natsReplicas ?? natsReplicas();
  const apiAddr = options.apiAddr ?? process.env['STRATA_DEMO_API_ADDR'] ?? '127.0.0.1:7443';
  const processes: ManagedProcess[] = [];
  let nats: StrataNats | undefined;
  let postgres: PostgresHandle | undefined;
  const stop = async (): Promise<void> => {
    for (const p of [...processes].reverse()) await p.stop(5_000).catch(() => undefined);
    await nats?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
  };
  try {
    const where = options.natsCluster === undefined ? `nats-server on 127.0.0.1:${natsPort}` : `a cluster of ${options.natsCluster} nats-servers`;
    log(`starting ${where} (JetStream, the production users of infra/nats/render-accounts.mjs, ${replicas} replica(s))`);
    // The operator creates every stream: no service user may (docs/architecture.md, "NATS security").
    const tls = options.tls;
    const natsTls = tls && { ...tls.pki.server, ca: tls.pki.ca.cert, verify: tls.natsVerify === true, ...(tls.natsVerify ? { client: tls.pki.client } : {}) };
    const server = options.natsCluster === undefined ? { port: natsPort } : { clusterSize: options.natsCluster };
    nats = await startProvisionedNats({ ...server, agents: options.agents ?? [], replicas, ...(natsTls ? { tls: natsTls } : {}) });
    const { passwords } = nats;
    const natsUrl = nats.url;

    const tokens: Record<string, string> = { admin: secret() };
    const tokenConfig = [{ name: 'admin', sha256: sha256(tokens.admin!), tenant: 'ops', admin: true }];
    for (const t of tenants) {
      tokens[t] = secret();
      tokenConfig.push({ name: `${t}-user`, sha256: sha256(tokens[t]!), tenant: t, admin: false });
    }
    const tokensFile = join(dir, 'api-tokens.json');
    writeFileSync(tokensFile, JSON.stringify(tokenConfig, null, 2), { mode: 0o600 });

    // The api authenticates every command and query with the master secret; each service is given
    // only its own derived key, as in production, so no service can make requests another accepts.
    const commandKeys = generateCommandKeys();
    const ownKey = (service: string): Record<string, string> =>
      (COMMAND_SERVICES as readonly string[]).includes(service) ? { STRATA_COMMAND_VERIFY_KEYS: commandVerifyEntry(commandKeys.signingKey, service) } : {};
    const started = new Map<string, { entry: string; env: Record<string, string> }>();
    const service = (name: string, entry: string, env: Record<string, string>): ManagedProcess => {
      started.set(name, { entry, env });
      const p = startProcess(name, [process.execPath, join(ROOT, entry)], {
        env: {
          STRATA_HTTP_PORT: '0',
          STRATA_LOG_LEVEL: 'warn',
          STRATA_SERVICE_NAME: name.replace(/-\d+$/, ''),
          [NATS_REPLICAS_VAR]: String(replicas),
          ...ownKey(name.replace(/-\d+$/, '')),
          ...env,
        },
        readyWhen: /"msg":"started"|started/,
      });
      processes.push(p);
      return p;
    };
    log('starting 2 IPAM instances (queue group "ipam", NATS user ipam)');
    const ipam1 = service('ipam-1', 'services/ipam/dist/main.js', { ...nats.env('ipam'), STRATA_LOG_LEVEL: 'info' });
    await ipam1.ready;
    const ipam2 = service('ipam-2', 'services/ipam/dist/main.js', { ...nats.env('ipam'), STRATA_LOG_LEVEL: 'info' });
    log(`starting the gRPC API on ${apiAddr} (NATS user api)`);
    const api = service('api', 'services/api/dist/main.js', {
      ...nats.env('api'),
      STRATA_GRPC_ADDR: apiAddr,
      STRATA_API_TOKENS_FILE: tokensFile,
      STRATA_COMMAND_SIGNING_KEY: commandKeys.signingKey,
      STRATA_LOG_LEVEL: 'info',
      ...(tls ? { STRATA_API_TLS_CERT: tls.pki.server.cert, STRATA_API_TLS_KEY: tls.pki.server.key } : {}),
      ...(tls?.apiMutual ? { STRATA_API_TLS_CLIENT_CA: tls.pki.ca.cert } : {}),
      ...options.apiEnv,
    });
    log('starting the security-group service (NATS user secgroup)');
    const secgroup = service('secgroup', 'services/secgroup/dist/main.js', { ...nats.env('secgroup'), STRATA_LOG_LEVEL: 'info' });
    log('starting the NAT service (NATS user nat)');
    const nat = service('nat', 'services/nat/dist/main.js', { ...nats.env('nat'), STRATA_LOG_LEVEL: 'info' });
    log('starting the service-chaining service (NATS user chaining)');
    const chaining = service('chaining', 'services/chaining/dist/main.js', { ...nats.env('chaining'), STRATA_LOG_LEVEL: 'info' });
    log('starting the status service (NATS user status)');
    const status = service('status', 'services/status/dist/main.js', { ...nats.env('status'), STRATA_LOG_LEVEL: 'info', ...options.statusEnv });
    log('starting the audit service (NATS user audit)');
    const audit = service('audit', 'services/audit/dist/main.js', { ...nats.env('audit'), STRATA_LOG_LEVEL: 'info' });
    log('starting the vtep controller (NATS user vtep): drives ovsdb gateway devices');
    const vtep = service('vtep', 'services/vtep/dist/main.js', { ...nats.env('vtep'), STRATA_LOG_LEVEL: 'info' });
    const hostview = options.hostview ? [service('hostview', 'services/hostview/dist/main.js', { ...nats.env('hostview'), STRATA_LOG_LEVEL: 'info' }).ready] : [];
    await Promise.all([ipam2.ready, api.ready, secgroup.ready, nat.ready, chaining.ready, status.ready, audit.ready, vtep.ready, ...hostview]);
    let neutronUrl: string | undefined;
    if (options.neutron) {
      const n = options.neutron;
      log(`starting the Neutron API on ${n.listen} (NATS user neutron, Keystone ${n.keystoneUrl})`);
      await service('neutron', 'services/neutron/dist/main.js', {
        ...nats.env('neutron'),
        STRATA_NEUTRON_LISTEN: n.listen,
        STRATA_COMMAND_SIGNING_KEY: commandKeys.signingKey,
        KEYSTONE_URL: n.keystoneUrl,
        KEYSTONE_SERVICE_USER: n.serviceUser,
        KEYSTONE_SERVICE_PASSWORD: n.servicePassword,
        STRATA_LOG_LEVEL: 'info',
        ...(tls ? { STRATA_NEUTRON_TLS_CERT: tls.pki.server.cert, STRATA_NEUTRON_TLS_KEY: tls.pki.server.key } : {}),
        ...n.env,
      }).ready;
      neutronUrl = `${tls ? 'https' : 'http'}://${n.listen}`;
    }
    if (options.postgres) {
      log('starting PostgreSQL and the read model: two pg-projectors, one active, one standby (NATS user pg-projector)');
      postgres = await startPostgres();
      const pgEnv = { ...nats.env('pg-projector'), STRATA_PG_URL: postgres.url, STRATA_LOG_LEVEL: 'info' };
      await Promise.all(['pg-projector-1', 'pg-projector-2'].map((name) => service(name, 'services/pg-projector/dist/main.js', pgEnv).ready));
    }
    const restart = async (name: string, env: Record<string, string> = {}): Promise<ManagedProcess> => {
      const how = started.get(name);
      const at = processes.findIndex((p) => p.name === name);
      if (how === undefined || at < 0) throw new Error(`no service process ${name} in this control plane`);
      await processes[at]!.stop(10_000);
      processes.splice(at, 1);
      const p = service(name, how.entry, { ...how.env, ...env });
      started.set(name, how);
      await p.ready;
      return p;
    };
    const cliEnv: Record<string, string> = !tls
      ? { STRATA_PLAINTEXT: '1' }
      : { STRATA_CA: tls.pki.ca.cert, ...(tls.apiMutual ? { STRATA_CERT: tls.pki.client.cert, STRATA_KEY: tls.pki.client.key } : {}) };
    const natsServer = nats.server;
    const natsUsers = nats;
    return {
      natsUrl,
      ...(nats.cluster ? { cluster: nats.cluster } : {}),
      apiAddr,
      ...(neutronUrl ? { neutronUrl } : {}),
      cliEnv,
      ...(natsTls ? { natsTls: natsClientTls(natsTls) } : {}),
      natsLogs: () => nats?.cluster?.logs() ?? natsServer.logs(),
      natsEnv: (user) => natsUsers.env(user),
      tokens, passwords: { ...passwords }, commandKeys, processes, restart, ...(postgres ? { postgres } : {}), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
