/**
 * Integration-test support: real IPAM and secgroup processes (so they can be
 * SIGKILLed) against a real nats-server, a typed secgroup client, and the
 * state a full replay of the log gives.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { NatsConnection } from 'nats';
import {
  querySubject,
  commandSubject,
  type SecgroupCommandInput,
  type SecgroupCommandName,
  type SecgroupQueryInput,
  type SecgroupQueryName,
  type SecgroupResults,
} from '@strata/contracts';
import type { EventStore } from '@strata/eventlog';
import { startProcess, type ManagedProcess, type Principal } from '@strata/lab';
import { commandSignerFrom, NatsRequester, type RequestMeta } from '@strata/runtime';
import { replayDigest as replayStateDigest } from '@strata/service-kit/testing';
import { initialState } from '../domain/state.js';
import { foldSecgroup, PROJECTION_SUBJECT } from '../app/projection.js';

export { ADMIN, IpamClient, type Principal } from '@strata/lab';
export { eventsOf } from '@strata/service-kit/testing';

const SECGROUP_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const IPAM_MAIN = join(dirname(createRequire(import.meta.url).resolve('@strata/ipam')), 'main.js');

const baseEnv = (natsUrl: string): Record<string, string> => ({ NATS_URL: natsUrl, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0' });

export function startIpam(natsUrl: string, env: Record<string, string> = {}): ManagedProcess {
  return startProcess('ipam', [process.execPath, IPAM_MAIN], { env: { ...baseEnv(natsUrl), ...env } });
}

/** A secgroup instance; the reactor's ack wait is short so a killed instance's pulled events come back quickly. */
export function startSecgroup(natsUrl: string, env: Record<string, string> = {}, name = 'secgroup'): ManagedProcess {
  return startProcess(name, [process.execPath, SECGROUP_MAIN], {
    env: { ...baseEnv(natsUrl), SECGROUP_REACTOR_ACK_WAIT_MS: '2000', SECGROUP_REACTOR_RETRY_MS: '200', ...env },
  });
}

export class SecgroupClient {
  private readonly requester: NatsRequester;
  private minSeq = 0;

  constructor(
    readonly nc: NatsConnection,
    timeoutMs = 15_000,
  ) {
    this.requester = new NatsRequester(nc, { timeoutMs, signer: commandSignerFrom() });
  }

  /** Read-your-writes across services: later queries wait until secgroup has applied `seq` (e.g. an IPAM write). */
  observe(seq: number): void {
    if (seq > this.minSeq) this.minSeq = seq;
  }

  private meta(who: Principal, requestId: string = randomUUID()): RequestMeta {
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

  async command<K extends SecgroupCommandName>(op: K, body: SecgroupCommandInput<K>, who: Principal, requestId?: string): Promise<SecgroupResults[K]> {
    const r = await this.requester.request<SecgroupResults[K]>(commandSubject('secgroup', op), body, this.meta(who, requestId));
    if (r.seq !== undefined) this.observe(r.seq);
    return r.result;
  }

  async query<K extends SecgroupQueryName>(op: K, body: SecgroupQueryInput<K>, who: Principal): Promise<SecgroupResults[K]> {
    return (await this.requester.request<SecgroupResults[K]>(querySubject('secgroup', op), body, this.meta(who))).result;
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

/** The secgroup state a full replay of the log gives, up to `toSeq`. */
export const replayDigest = (store: EventStore, toSeq: number): Promise<{ seq: number; sha256: string }> =>
  replayStateDigest(store, foldSecgroup, initialState(), toSeq, PROJECTION_SUBJECT);
