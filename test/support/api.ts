/** The gRPC API in-process over a real NATS, and the real `strata` CLI run in-process against it. */
import { randomBytes } from 'node:crypto';
import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import { sha256Hex, startApiServer, type ApiServer } from '@strata/api';
import { run } from '@strata/cli';
import { commandSignerFrom, createLogger } from '@strata/runtime';

export interface Tokens {
  admin: string;
  [tenant: string]: string;
}

export interface ApiHarness {
  server: ApiServer;
  tokens: Tokens;
  /** Run `strata <argv>` with a token; returns exit code and output. */
  cli(token: string, argv: string[]): Promise<{ code: number; out: string; err: string }>;
  /** `strata ... -o json`, parsed; throws with the CLI's error text when it fails. */
  json<T>(token: string, argv: string[]): Promise<T>;
  stop(): Promise<void>;
}

/** `nats`: the api user's connection options (StrataNats.options('api')), or a URL of a server without users. */
export async function startApi(nats: string | ConnectionOptions, tenants: string[]): Promise<ApiHarness> {
  const nc: NatsConnection = await connect({ ...(typeof nats === 'string' ? { servers: nats } : nats), name: 'api' });
  const tokens: Tokens = { admin: randomBytes(16).toString('hex') };
  const configured = [{ name: 'admin', sha256: sha256Hex(tokens.admin), tenant: 'ops', admin: true }];
  for (const t of tenants) {
    tokens[t] = randomBytes(16).toString('hex');
    configured.push({ name: `${t}-user`, sha256: sha256Hex(tokens[t]!), tenant: t, admin: false });
  }
  const server = await startApiServer({ nc, tokens: configured, signer: commandSignerFrom(), grpcAddr: '127.0.0.1:0', logger: createLogger('api', 'warn') });
  const { cli, json } = strataCli(`127.0.0.1:${server.port}`);
  return {
    server,
    tokens,
    cli,
    json,
    async stop() {
      await server.stop();
      await nc.close();
    },
  };
}

export interface StrataCli {
  /** Run `strata <argv>` with a token; returns exit code and output. */
  cli(token: string, argv: string[]): Promise<{ code: number; out: string; err: string }>;
  /** `strata ... -o json`, parsed; throws with the CLI's error text when it fails. */
  json<T>(token: string, argv: string[]): Promise<T>;
}

/**
 * The real `strata` CLI, run in-process against the API at `server` (host:port). `security` is how it
 * protects the connection (STRATA_CA, STRATA_CERT/STRATA_KEY); default plaintext, as these test APIs serve.
 */
export function strataCli(server: string, security: Record<string, string> = { STRATA_PLAINTEXT: '1' }): StrataCli {
  const cli = async (token: string, argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await run(argv, {
      io: { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) },
      env: { STRATA_SERVER: server, STRATA_TOKEN: token, ...security },
    });
    return { code, out, err };
  };
  return {
    cli,
    async json<T>(token: string, argv: string[]): Promise<T> {
      const r = await cli(token, [...argv, '-o', 'json']);
      if (r.code !== 0) throw new Error(`strata ${argv.join(' ')} exited ${r.code}: ${r.err.trim()}`);
      return JSON.parse(r.out) as T;
    },
  };
}
