/**
 * Integration-test support: real IPAM and nat processes (so they can be
 * SIGKILLed) on a real nats-server, the lab's typed clients, and the state a
 * full replay of the log gives.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { EventStore } from '@strata/eventlog';
import { startProcess, type ManagedProcess } from '@strata/lab';
import { replayDigest as replayStateDigest } from '@strata/service-kit/testing';
import { initialState } from '../domain/state.js';
import { foldNat, PROJECTION_SUBJECT } from '../app/projection.js';

export { ADMIN, IpamClient, NatClient, type Principal } from '@strata/lab';
export { eventsOf } from '@strata/service-kit/testing';

const NAT_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const IPAM_MAIN = join(dirname(createRequire(import.meta.url).resolve('@strata/ipam')), 'main.js');

const env = (natsUrl: string, extra: Record<string, string>) => ({ NATS_URL: natsUrl, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0', ...extra });

/** `extra`: e.g. the ipam NATS user's credentials (StrataNats.env('ipam')). */
export const startIpam = (natsUrl: string, extra: Record<string, string> = {}): ManagedProcess =>
  startProcess('ipam', [process.execPath, IPAM_MAIN], { env: env(natsUrl, extra) });

/** A nat instance; the reactor's ack wait is short so a stopped instance's pulled events come back quickly. */
export const startNat = (natsUrl: string, extra: Record<string, string> = {}, name = 'nat'): ManagedProcess =>
  startProcess(name, [process.execPath, NAT_MAIN], { env: env(natsUrl, { NAT_REACTOR_ACK_WAIT_MS: '2000', NAT_REACTOR_RETRY_MS: '200', ...extra }) });

/** The nat state a full replay of the log gives, up to `toSeq`. */
export const replayDigest = (store: EventStore, toSeq: number): Promise<{ seq: number; sha256: string }> =>
  replayStateDigest(store, foldNat, initialState(), toSeq, PROJECTION_SUBJECT);
