/**
 * Runs real IPAM instances for cross-service tests: child processes
 * (`node services/ipam/dist/main.js`, so they can be SIGKILLed) talking to a
 * real nats-server. The typed client lives in @strata/lab.
 */
import { fileURLToPath } from 'node:url';
import { startProcess, type ManagedProcess } from '@strata/lab';

export { ADMIN, IpamClient, type Principal } from '@strata/lab';

const IPAM_MAIN = fileURLToPath(new URL('../../services/ipam/dist/main.js', import.meta.url));

export type IpamProcess = ManagedProcess;

export function startIpam(natsUrl: string, env: Record<string, string> = {}): IpamProcess {
  return startProcess('ipam', [process.execPath, IPAM_MAIN], {
    env: { NATS_URL: natsUrl, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0', ...env },
  });
}
