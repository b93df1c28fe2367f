/**
 * Integration-test support: real IPAM, secgroup and chaining processes on a
 * real nats-server with the production users, the lab's typed clients, and
 * the state a full replay of the log gives.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { EventStore } from '@strata/eventlog';
import { startProcess, type ManagedProcess } from '@strata/lab';
import { replayDigest as replayStateDigest } from '@strata/service-kit/testing';
import { initialState } from '../domain/state.js';
import { foldChaining, PROJECTION_SUBJECT } from '../app/projection.js';

export { ADMIN, ChainingClient, IpamClient, SecgroupClient, type Principal } from '@strata/lab';
export { eventsOf } from '@strata/service-kit/testing';

const CHAINING_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const require = createRequire(import.meta.url);
const mainOf = (pkg: string): string => join(dirname(require.resolve(pkg)), 'main.js');

const env = (natsUrl: string, extra: Record<string, string>) => ({ NATS_URL: natsUrl, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0', ...extra });

/** `extra`: the service's NATS user's credentials (StrataNats.env(user)). */
export const startIpam = (natsUrl: string, extra: Record<string, string>): ManagedProcess =>
  startProcess('ipam', [process.execPath, mainOf('@strata/ipam')], { env: env(natsUrl, extra) });
export const startSecgroup = (natsUrl: string, extra: Record<string, string>): ManagedProcess =>
  startProcess('secgroup', [process.execPath, mainOf('@strata/secgroup')], { env: env(natsUrl, extra) });
export const startChaining = (natsUrl: string, extra: Record<string, string>, name = 'chaining'): ManagedProcess =>
  startProcess(name, [process.execPath, CHAINING_MAIN], { env: env(natsUrl, { CHAINING_REACTOR_ACK_WAIT_MS: '2000', CHAINING_REACTOR_RETRY_MS: '200', ...extra }) });

/** The chaining state a full replay of the log gives, up to `toSeq`. */
export const replayDigest = (store: EventStore, toSeq: number): Promise<{ seq: number; sha256: string }> =>
  replayStateDigest(store, foldChaining, initialState(), toSeq, PROJECTION_SUBJECT);
