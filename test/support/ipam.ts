/**
 * Runs real IPAM instances for cross-service tests: as child processes
 * (`node services/ipam/dist/main.js`, so they can be SIGKILLed) talking to a
 * real nats-server, and a typed client over the NATS request/reply contract.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from 'nats';
import {
  commandSubject,
  querySubject,
  type IpamCommandInput,
  type IpamCommandName,
  type IpamQueryInput,
  type IpamQueryName,
  type IpamResults,
} from '@strata/contracts';
import { NatsRequester, type RequestMeta } from '@strata/runtime';

const IPAM_MAIN = fileURLToPath(new URL('../../services/ipam/dist/main.js', import.meta.url));

export interface IpamProcess {
  readonly pid: number;
  /** Resolves when the instance logged that it serves requests. */
  ready: Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: a crash, no graceful shutdown. */
  kill9(): Promise<void>;
  output(): string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function startIpam(natsUrl: string, env: Record<string, string> = {}): IpamProcess {
  const child = spawn(process.execPath, [IPAM_MAIN], {
    env: { ...process.env, NATS_URL: natsUrl, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => live.delete(child));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out = (out + chunk.toString()).slice(-256 * 1024);
      if (out.includes('"msg":"started"')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then(() => reject(new Error(`ipam exited before it was ready:\n${out}`)));
  });
  ready.catch(() => undefined);
  return {
    pid: child.pid!,
    ready,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface Principal {
  tenant: string;
  admin: boolean;
  actor?: string;
}

export const ADMIN: Principal = { tenant: 'ops', admin: true, actor: 'admin' };

/** A typed client of IPAM's NATS contract, as the api uses it. */
export class IpamClient {
  private readonly requester: NatsRequester;
  private minSeq = 0;

  private constructor(readonly nc: NatsConnection, timeoutMs: number) {
    this.requester = new NatsRequester(nc, { timeoutMs });
  }

  static async connect(url: string, timeoutMs = 15_000): Promise<IpamClient> {
    return new IpamClient(await connect({ servers: url, name: 'test-client' }), timeoutMs);
  }

  meta(who: Principal, requestId: string = randomUUID()): RequestMeta {
    return {
      actor: who.actor ?? `${who.tenant}-user`,
      tenant: who.tenant,
      admin: who.admin,
      requestId,
      correlationId: requestId,
      at: new Date().toISOString(),
      ...(this.minSeq > 0 ? { minSeq: this.minSeq } : {}),
    };
  }

  async command<K extends IpamCommandName>(op: K, body: IpamCommandInput<K>, who: Principal = ADMIN, requestId?: string): Promise<IpamResults[K]> {
    const r = await this.requester.request<IpamResults[K]>(commandSubject('ipam', op), body, this.meta(who, requestId));
    if (r.seq !== undefined && r.seq > this.minSeq) this.minSeq = r.seq;
    return r.result;
  }

  async query<K extends IpamQueryName>(op: K, body: IpamQueryInput<K>, who: Principal = ADMIN): Promise<IpamResults[K]> {
    return (await this.requester.request<IpamResults[K]>(querySubject('ipam', op), body, this.meta(who))).result;
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}
