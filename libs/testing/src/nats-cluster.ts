/**
 * A real nats-server cluster on loopback: `size` servers (3 by default)
 * joined by routes, JetStream on each, each in its own store directory, on
 * free ports. Each node also serves the monitoring endpoint, whose
 * `/healthz` answers 200 only when the node's JetStream is current with the
 * cluster (the meta group and every stream and consumer it holds a replica
 * of): that is what "started" and "rejoined and caught up" mean here.
 */
import { freePort } from './free-port.js';
import { startNatsServer, type NatsServerHandle, type NatsServerOptions } from './nats-server.js';
import { waitFor } from './wait-for.js';

export interface NatsClusterOptions extends Pick<NatsServerOptions, 'binary' | 'env' | 'startTimeoutMs'> {
  /** Number of servers; default 3. */
  size?: number;
  /** Extra configuration text for every node (accounts, users...), as NatsServerOptions.config. */
  config?: string;
  /** The cluster's name; default `strata`. */
  name?: string;
}

export interface NatsClusterNode {
  /** `n1`, `n2`, ... (the server_name JetStream reports as a peer). */
  name: string;
  url: string;
  port: number;
  /** The route port the other nodes connect to. */
  clusterPort: number;
  /** The monitoring port (`/healthz`, `/jsz`, `/varz`). */
  monitorPort: number;
  server: NatsServerHandle;
}

export interface NatsCluster {
  nodes: readonly NatsClusterNode[];
  /** Every node's URL, comma-separated: what NATS_URL takes. */
  url: string;
  /** Graceful stop of node i (SIGTERM), keeping its store. */
  stopNode(i: number): Promise<void>;
  /** Crash node i (SIGKILL), keeping its store. */
  killNode(i: number): Promise<void>;
  /** Start node i again (same ports, same store) and wait until it is healthy (caught up). */
  startNode(i: number): Promise<void>;
  /** Index of the node with this server_name (a stream info's `cluster.leader`). */
  indexOf(serverName: string): number;
  /** Wait until every running node says /healthz ok (JetStream current). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** The last few KiB of each node's output, for failure messages. */
  logs(): string;
  /** Stop every node and delete the stores. Idempotent. */
  stop(): Promise<void>;
}

/** Whether a node's JetStream is current (`/healthz` 200); false while it is down or catching up. */
export async function nodeHealthy(monitorPort: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${monitorPort}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  if (!Number.isInteger(size) || size < 1) throw new Error(`a cluster needs at least one server, got size ${String(size)}`);
  const clusterName = opts.name ?? 'strata';
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), cluster: await freePort(), monitor: await freePort() })));
  const routes = ports.map((p) => `"nats-route://127.0.0.1:${p.cluster}"`).join(', ');
  const nodeConfig = (i: number): string =>
    [
      `server_name: "n${i + 1}"`,
      `http: "127.0.0.1:${ports[i]!.monitor}"`,
      `cluster { name: "${clusterName}", listen: "127.0.0.1:${ports[i]!.cluster}", routes: [${routes}] }`,
      opts.config ?? '',
    ].join('\n');

  const started = await Promise.allSettled(
    ports.map((p, i) =>
      startNatsServer({
        config: nodeConfig(i),
        port: p.client,
        ...(opts.binary ? { binary: opts.binary } : {}),
        ...(opts.env ? { env: opts.env } : {}),
        ...(opts.startTimeoutMs ? { startTimeoutMs: opts.startTimeoutMs } : {}),
      }),
    ),
  );
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(servers.map((s) => s.stop()));
    throw failed.reason;
  }

  const nodes: NatsClusterNode[] = servers.map((server, i) => ({
    name: `n${i + 1}`,
    url: server.url,
    port: ports[i]!.client,
    clusterPort: ports[i]!.cluster,
    monitorPort: ports[i]!.monitor,
    server,
  }));
  const running = new Set(nodes.map((_, i) => i));
  const node = (i: number): NatsClusterNode => {
    const n = nodes[i];
    if (!n) throw new Error(`no node ${i} in a cluster of ${nodes.length}`);
    return n;
  };
  const logs = (): string => nodes.map((n) => `--- ${n.name} (${n.url}) ---\n${n.server.logs()}`).join('\n');
  const waitHealthy = async (timeoutMs = 30_000): Promise<void> => {
    for (const i of running) {
      await waitFor(() => nodeHealthy(node(i).monitorPort), { timeoutMs, intervalMs: 100, message: `${node(i).name}'s JetStream to be current\n${logs()}` });
    }
  };
  const stop = async (): Promise<void> => {
    running.clear();
    await Promise.all(nodes.map((n) => n.server.stop()));
  };

  try {
    await waitHealthy();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    async stopNode(i) {
      running.delete(i);
      await node(i).server.halt();
    },
    async killNode(i) {
      running.delete(i);
      await node(i).server.kill9();
    },
    async startNode(i) {
      await node(i).server.restart();
      running.add(i);
      await waitFor(() => nodeHealthy(node(i).monitorPort), { timeoutMs: 60_000, intervalMs: 100, message: `${node(i).name} to rejoin and catch up\n${logs()}` });
    },
    indexOf(serverName) {
      const i = nodes.findIndex((n) => n.name === serverName);
      if (i < 0) throw new Error(`no node named ${serverName} (nodes: ${nodes.map((n) => n.name).join(', ')})`);
      return i;
    },
    waitHealthy,
    logs,
    stop,
  };
}
