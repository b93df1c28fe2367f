/** Integration-test support: real IPAM and vtep processes on a real nats-server. */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { startProcess, type ManagedProcess } from '@strata/lab';

export { ADMIN, IpamClient, type Principal } from '@strata/lab';
export { eventsOf } from '@strata/service-kit/testing';

const VTEP_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const mainOf = (pkg: string): string => join(dirname(createRequire(import.meta.url).resolve(pkg)), 'main.js');
const IPAM_MAIN = mainOf('@strata/ipam');
const HOSTVIEW_MAIN = mainOf('@strata/hostview');

const env = (natsUrl: string, extra: Record<string, string>) => ({ NATS_URL: natsUrl, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0', ...extra });

export const startIpam = (natsUrl: string, extra: Record<string, string> = {}): ManagedProcess =>
  startProcess('ipam', [process.execPath, IPAM_MAIN], { env: env(natsUrl, extra) });

/** Short reconnect backoff: the tests restart the device's database. */
export const startVtep = (natsUrl: string, extra: Record<string, string> = {}): ManagedProcess =>
  startProcess('vtep', [process.execPath, VTEP_MAIN], { env: env(natsUrl, { VTEP_MAX_BACKOFF_MS: '500', ...extra }) });

export const startHostview = (natsUrl: string, extra: Record<string, string> = {}): ManagedProcess =>
  startProcess('hostview', [process.execPath, HOSTVIEW_MAIN], { env: env(natsUrl, extra) });
