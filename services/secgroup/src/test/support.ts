/**
 * Integration-test support: real IPAM and secgroup processes (so they can be
 * SIGKILLed) against a real nats-server, the lab's typed clients, and the
 * state a full replay of the log gives.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { EventStore } from '@strata/eventlog';
import { startProcess, type ManagedProcess } from '@strata/lab';
import { replayDigest as replayStateDigest } from '@strata/service-kit/testing';
import { initialState } from '../domain/state.js';
import { foldSecgroup, PROJECTION_SUBJECT } from '../app/projection.js';

export { ADMIN, IpamClient, SecgroupClient, type Principal } from '@strata/lab';
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

/** The secgroup state a full replay of the log gives, up to `toSeq`. */
export const replayDigest = (store: EventStore, toSeq: number): Promise<{ seq: number; sha256: string }> =>
  replayStateDigest(store, foldSecgroup, initialState(), toSeq, PROJECTION_SUBJECT);
