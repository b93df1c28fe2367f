/** Integration-test support: real IPAM, hostview and audit processes on a real nats-server with the production users. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, type ManagedProcess } from '@strata/lab';

export { ADMIN, AuditClient, IpamClient, type Principal } from '@strata/lab';

const AUDIT_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const require = createRequire(import.meta.url);
const mainOf = (pkg: string): string => join(dirname(require.resolve(pkg)), 'main.js');
const env = (extra: Record<string, string>) => ({ STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0', ...extra });

/** `user`: the service's NATS user's environment (StrataNats.env(user)). */
export const startIpam = (user: Record<string, string>): ManagedProcess => startProcess('ipam', [process.execPath, mainOf('@strata/ipam')], { env: env(user) });
/** One hostview instance owning every host (partition 0/1). */
export const startHostview = (user: Record<string, string>): ManagedProcess => startProcess('hostview', [process.execPath, mainOf('@strata/hostview')], { env: env(user) });
export const startAudit = (user: Record<string, string>, extra: Record<string, string> = {}): ManagedProcess =>
  startProcess('audit', [process.execPath, AUDIT_MAIN], { env: env({ ...user, ...extra }) });
