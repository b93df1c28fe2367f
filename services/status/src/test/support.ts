/**
 * Integration-test support: real IPAM, hostview and status processes on a real
 * nats-server with the production users, and an agent's side of the status
 * protocol played on a connection with that agent's own NATS user
 * (real AgentReport / AgentHeartbeat messages on its own subjects).
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from 'nats';
import { agentHeartbeatSubject, agentReportSubject, type AgentHeartbeat, type AgentReport, type ReportedPort } from '@strata/contracts';
import { startProcess, type ManagedProcess } from '@strata/lab';

export { ADMIN, IpamClient, StatusClient, type Principal } from '@strata/lab';
export { eventsOf } from '@strata/service-kit/testing';

const STATUS_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const require = createRequire(import.meta.url);
const mainOf = (pkg: string): string => join(dirname(require.resolve(pkg)), 'main.js');
const env = (extra: Record<string, string>) => ({ STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0', ...extra });

/** `user`: the service's NATS user's environment (StrataNats.env(user)). */
export const startIpam = (user: Record<string, string>): ManagedProcess => startProcess('ipam', [process.execPath, mainOf('@strata/ipam')], { env: env(user) });
/**
 * A hostview partition ("i/n"), without leases: these tests stop a partition's instance to see the status
 * service answer without it, which leases would undo by moving the partition (hostview's failover has its own test).
 */
export const startHostview = (user: Record<string, string>, partition: string): ManagedProcess =>
  startProcess(`hostview-${partition.replace('/', '-')}`, [process.execPath, mainOf('@strata/hostview')], {
    env: env({ ...user, HOSTVIEW_PARTITION: partition, HOSTVIEW_POSITIONS_WAIT_MS: '1000', HOSTVIEW_LEASE_MS: '0' }),
  });
export const startStatus = (user: Record<string, string>, extra: Record<string, string> = {}, name = 'status'): ManagedProcess =>
  startProcess(name, [process.execPath, STATUS_MAIN], { env: env({ ...user, ...extra }) });

/** One agent process as the status protocol sees it: a boot id, a generation, heartbeats on a timer. */
export class ReportingAgent {
  readonly bootId = randomUUID();
  private readonly startedAt = new Date().toISOString();
  private timer: NodeJS.Timeout | undefined;
  generation = 1;
  appliedPosition: number | null = null;
  ports: ReportedPort[] = [];

  constructor(
    private readonly nc: NatsConnection,
    readonly hostId: string,
  ) {}

  private identity() {
    return { hostId: this.hostId, bootId: this.bootId, version: '0.1.0-test', startedAt: this.startedAt, sentAt: new Date().toISOString() };
  }

  report(): void {
    const r: AgentReport = { ...this.identity(), generation: this.generation, appliedPosition: this.appliedPosition, viewRevision: 0, appliedAt: null, ports: this.ports, error: null };
    this.nc.publish(agentReportSubject(this.hostId), JSON.stringify(r));
  }

  heartbeat(): void {
    const h: AgentHeartbeat = { ...this.identity(), generation: this.generation, appliedPosition: this.appliedPosition, error: null };
    this.nc.publish(agentHeartbeatSubject(this.hostId), JSON.stringify(h));
  }

  /** Report, then heartbeat every `everyMs` until stopped. */
  start(everyMs: number): void {
    this.report();
    this.timer = setInterval(() => this.heartbeat(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
