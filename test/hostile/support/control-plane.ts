/**
 * The control plane as production runs it (startControlPlane: nats-server
 * with the users of infra/nats, real ipam, secgroup, nat and api processes)
 * on free ports, plus what an attacker and the test's own checks need:
 * a NATS connection as any production user, the real CLI against the API,
 * and the event log's length as the operator sees it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { DEFAULT_EVENT_LOG_OPTIONS } from '@strata/eventlog';
import { NO_AGENTS_STATUS_ENV, startControlPlane, type ControlPlane, type ControlPlaneTls } from '@strata/lab';
import { freePort } from '@strata/testing';
import { strataCli, type StrataCli } from '../../support/api.js';

export const EVENTS = DEFAULT_EVENT_LOG_OPTIONS.streamName;

export interface HostileControlPlane extends ControlPlane {
  dir: string;
  cli: StrataCli;
  /** Connect as a production NATS user (its password, its inbox prefix, as the service does). */
  connectAs(user: string): Promise<NatsConnection>;
  /** Messages in the event log now (read as the operator). */
  eventCount(): Promise<number>;
  /** The event log's last sequence (read as the operator): a refused command must not move it. */
  lastSeq(): Promise<number>;
  /** stop() and remove the state directory. */
  destroy(): Promise<void>;
}

export interface HostileOptions {
  /** Extra environment for the API process (e.g. shortened STRATA_GRPC_* limits). */
  apiEnv?: Record<string, string>;
  /** Hypervisors to provision (their agent users, e.g. `agent-hv1`, and host-view buckets). */
  agents?: readonly string[];
  /** TLS on NATS, the API (and Neutron): startControlPlane's `tls`. */
  tls?: ControlPlaneTls;
  /** nats-server's port (default: a free one), e.g. to capture its traffic from the start. */
  natsPort?: number;
  /** The API's host:port (default: a free loopback port). */
  apiAddr?: string;
  /** Also run hostview (startControlPlane's `hostview`): the host views of `agents` are written. */
  hostview?: boolean;
}

export async function startHostileControlPlane(tenants: string[], options: HostileOptions = {}): Promise<HostileControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-hostile-'));
  let cp: ControlPlane;
  try {
    const apiEnv = options.apiEnv ?? {};
    cp = await startControlPlane(dir, tenants, () => undefined, {
      natsPort: options.natsPort ?? (await freePort()),
      apiAddr: options.apiAddr ?? `127.0.0.1:${await freePort()}`,
      ...(options.tls ? { tls: options.tls } : {}),
      apiEnv,
      // These planes register hypervisors that run no agent.
      statusEnv: NO_AGENTS_STATUS_ENV,
      ...(options.agents ? { agents: options.agents } : {}),
      ...(options.hostview ? { hostview: true } : {}),
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const connections: NatsConnection[] = [];
  const connectAs = async (user: string): Promise<NatsConnection> => {
    const pass = cp.passwords[user];
    if (pass === undefined) throw new Error(`no NATS user ${user} in this control plane`);
    const nc = await connect({ servers: cp.natsUrl, user, pass, inboxPrefix: `_INBOX_${user}`, name: `hostile-${user}`, ...(cp.natsTls ? { tls: cp.natsTls } : {}) });
    connections.push(nc);
    return nc;
  };
  let operator: NatsConnection | undefined;
  const streamState = async (): Promise<{ messages: number; last_seq: number }> => {
    operator ??= await connectAs('admin');
    return (await (await operator.jetstreamManager()).streams.info(EVENTS)).state;
  };
  return {
    ...cp,
    dir,
    cli: strataCli(cp.apiAddr, cp.cliEnv),
    connectAs,
    async eventCount() {
      return (await streamState()).messages;
    },
    async lastSeq() {
      return (await streamState()).last_seq;
    },
    async destroy() {
      for (const nc of connections) if (!nc.isClosed()) await nc.close().catch(() => undefined);
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a NATS request as `nc` answers: the reply, or the error's message (a permissions violation, a timeout). */
export async function attempt(nc: NatsConnection, subject: string, data: string | Uint8Array): Promise<string> {
  try {
    const reply = await nc.request(subject, typeof data === 'string' ? new TextEncoder().encode(data) : data, { timeout: 3_000 });
    return new TextDecoder().decode(reply.data);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
