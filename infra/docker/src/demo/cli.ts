/**
 * The demo drives Strata the way a user does: the real `strata` CLI against
 * the gRPC API, with one token per tenant, over TLS verified against the
 * lab's CA (STRATA_CA, from the environment). Creates send a request id derived
 * from a stable name: Strata answers a repeated request id with the resource
 * it created the first time, so re-running the demo creates nothing twice.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = process.env['STRATA_CLI'] ?? '/opt/strata/cli/dist/main.js';
/** Attempts of a command answered UNAVAILABLE or DEADLINE_EXCEEDED, 2 s apart. */
const UNAVAILABLE_ATTEMPTS = 10;

export type Who = 'admin' | 'tenant-a' | 'tenant-b';

const TOKEN_VARS: Record<Who, string> = {
  admin: 'STRATA_LAB_ADMIN_TOKEN',
  'tenant-a': 'STRATA_LAB_TENANT_A_TOKEN',
  'tenant-b': 'STRATA_LAB_TENANT_B_TOKEN',
};

/** A UUID (version 5 layout) from a name: the same name gives the same request id on every run. */
export function stableRequestId(name: string): string {
  const h = createHash('sha1').update(`strata-compose-lab:${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export class CliError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`strata ${args.join(' ')}: ${stderr.trim()}`);
  }
}

export interface CliOptions {
  /** Print the command and its table output (the parts of the demo people read). */
  show?: boolean;
  /** Derive the request id from this name (creates). */
  once?: string;
}

export class Strata {
  /**
   * By name (api:7443): the name is what the API's certificate is checked
   * against. The CLI asks DNS for no TXT service config (cli/src/client.ts),
   * which inside the lab the engine's DNS would forward to the host's
   * resolver, unreachable from the lab's internal networks.
   */
  constructor(readonly server = process.env['STRATA_SERVER'] ?? 'api:7443') {}

  private token(who: Who): string {
    const token = process.env[TOKEN_VARS[who]];
    if (!token) throw new Error(`${TOKEN_VARS[who]} is not set (the lab's tokens come from docker-compose.yml)`);
    return token;
  }

  /** `strata ARGS -o json` as `who`; the parsed output. */
  async json<T>(who: Who, args: string[], opts: CliOptions = {}): Promise<T> {
    const out = await this.exec(who, [...args, ...(opts.once ? ['--request-id', stableRequestId(opts.once)] : []), '-o', 'json']);
    if (opts.show) console.log(`$ strata ${args.join(' ')}   # as ${who}`);
    return JSON.parse(out) as T;
  }

  /** `strata ARGS` as `who`, printed as people see it. */
  async show(who: Who, args: string[]): Promise<void> {
    console.log(`\n$ strata ${args.join(' ')}   # as ${who}`);
    process.stdout.write(await this.exec(who, args));
  }

  async exec(who: Who, args: string[]): Promise<string> {
    return this.execWithToken(this.token(who), args);
  }

  /** `strata ARGS` with any bearer token (e.g. a Keystone token, which the API validates with Keystone). */
  async execWithToken(token: string, args: string[]): Promise<string> {
    const env = { ...process.env, STRATA_SERVER: this.server, STRATA_TOKEN: token };
    // UNAVAILABLE says "retry later", DEADLINE_EXCEEDED "retry it with the same x-request-id": the demo
    // does, as a client should, so a command whose answer was lost is applied once (a NATS node lost: a
    // read, e.g. an audit diff's replay, may need longer than one deadline while readers move).
    const argv = args.includes('--request-id') ? args : ['--request-id', randomUUID(), ...args];
    for (let attempt = 1; ; attempt++) {
      try {
        const { stdout } = await run(process.execPath, [CLI, ...argv], { env, maxBuffer: 16 * 1024 * 1024 });
        return stdout;
      } catch (e) {
        const stderr = (e as { stderr?: string }).stderr ?? String(e);
        if (!/UNAVAILABLE|DEADLINE_EXCEEDED/.test(stderr) || attempt === UNAVAILABLE_ATTEMPTS) throw new CliError(args, stderr);
        console.log(`  (strata ${args[0]} ${args[1] ?? ''}: ${stderr.trim().split('\n')[0]}; retrying, attempt ${attempt + 1} of ${UNAVAILABLE_ATTEMPTS})`);
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    }
  }
}
