import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import { z } from 'zod';
import { baseConfigSchema, loadConfig, type BaseConfig } from './config.js';
import { installContextManager } from './context-manager.js';
import { startHttpServer, type HttpServerHandle } from './http.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type ServiceMetrics } from './metrics.js';
import { natsTlsOptions } from './nats-tls.js';
import { Readiness } from './readiness.js';
import { otlpTracesUrl, startTraceExport } from './trace-export.js';

/** Everything a service's start function gets. */
export interface ServiceContext<C = BaseConfig> {
  /** STRATA_SERVICE_NAME if set, else the definition's name. */
  name: string;
  config: C;
  nc: NatsConnection;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Register what must hold before the service takes traffic, e.g. `readiness.flag('projection')`. */
  readiness: Readiness;
  http: HttpServerHandle;
}

/** Stops the service's own work (serve handles, subscriptions); the runtime then drains NATS. */
export type StopFn = () => void | Promise<void>;

export interface ServiceDefinition<S extends z.ZodObject = z.ZodObject<{}>> {
  name: string;
  /** The service's own settings; merged with baseConfigSchema and validated together. */
  config?: S;
  /**
   * At start-up, wait (retrying) while no server of NATS_URL can be reached,
   * instead of failing: for a process that must come up without the control
   * plane and change nothing meanwhile (the agent: fail static). A refusal
   * (bad credentials, a permission) still fails at once.
   */
  waitForNats?: boolean;
  start(ctx: ServiceContext<BaseConfig & z.output<S>>): Promise<StopFn>;
}

export interface RunningService<C = BaseConfig> {
  ctx: ServiceContext<C>;
  /** Graceful shutdown: not ready, service stop, NATS drain, HTTP close. Idempotent. */
  stop(): Promise<void>;
}

/** Start a service without touching process signals or exit codes: the testable half of runService. */
export async function startService<S extends z.ZodObject = z.ZodObject<{}>>(
  def: ServiceDefinition<S>,
  env: Record<string, string | undefined> = process.env,
): Promise<RunningService<BaseConfig & z.output<S>>> {
  const schema = z.object({ ...baseConfigSchema.shape, ...def.config?.shape });
  const config = loadConfig(schema, env) as BaseConfig & z.output<S>;
  const name = config.STRATA_SERVICE_NAME ?? def.name;
  const logger = createLogger(name, config.STRATA_LOG_LEVEL);
  const metrics = createMetrics(name);
  const readiness = new Readiness();
  const accepting = readiness.flag('started');
  const cleanup: Array<() => Promise<void>> = [];
  const tracesUrl = otlpTracesUrl(config);
  const traces = tracesUrl === undefined ? undefined : startTraceExport(name, tracesUrl);
  if (traces) {
    cleanup.push(() => traces.shutdown());
    logger.info({ otlp: traces.url }, 'exporting traces');
  } else if (tracesUrl !== undefined) {
    logger.warn({ otlp: tracesUrl }, 'a tracer provider is registered already in this process: spans go where it sends them');
  }
  try {
    const http = await startHttpServer({
      port: config.STRATA_HTTP_PORT,
      host: config.STRATA_HTTP_HOST,
      registry: metrics.registry,
      readiness,
    });
    cleanup.push(() => http.close());
    let connected: (() => boolean) | undefined;
    readiness.register('nats', () => connected?.() ?? false);
    const options = natsOptions(name, config);
    const nc = def.waitForNats ? await connectWhenReachable(options, logger) : await connect(options);
    cleanup.push(() => (nc.isClosed() ? Promise.resolve() : nc.close()));
    connected = trackConnection(nc);
    logger.info({ nats: nc.getServer(), http: `${http.host}:${http.port}` }, 'connected');

    const ctx: ServiceContext<BaseConfig & z.output<S>> = { name, config, nc, logger, metrics, readiness, http };
    const stopService = await def.start(ctx);
    accepting.set(true);
    logger.info('started');

    let stopping: Promise<void> | undefined;
    const stop = async (): Promise<void> => {
      accepting.set(false);
      try {
        await stopService();
      } finally {
        if (!nc.isClosed()) await nc.drain();
        await http.close();
        // Last: the spans of the requests drained above are sent before the process exits.
        await traces?.shutdown();
        logger.info('stopped');
      }
    };
    return { ctx, stop: () => (stopping ??= stop()) };
  } catch (err) {
    for (const undo of cleanup.reverse()) await undo().catch(() => undefined);
    throw err;
  }
}

/**
 * The whole life of a service process: start, serve until SIGTERM/SIGINT,
 * shut down gracefully and exit 0; any failure at the top level is logged
 * and exits 1. A second signal during shutdown exits at once.
 */
export async function runService<S extends z.ZodObject = z.ZodObject<{}>>(def: ServiceDefinition<S>): Promise<void> {
  // Without it the trace of an incoming request would not follow awaits; no-op if an OTel SDK registered one first.
  installContextManager();
  let logger: Logger = createLogger(def.name);
  const fail = (err: unknown, msg: string): never => {
    logger.fatal({ err }, msg);
    process.exit(1);
  };
  process.on('uncaughtException', (err) => fail(err, 'uncaught exception'));
  process.on('unhandledRejection', (err) => fail(err, 'unhandled rejection'));

  let running: RunningService<BaseConfig & z.output<S>>;
  try {
    running = await startService(def);
  } catch (err) {
    return fail(err, 'failed to start');
  }
  logger = running.ctx.logger;

  let shuttingDown = false;
  const shutdown = (signal: string): void => {
    if (shuttingDown) fail(new Error(`${signal} during shutdown`), 'forced exit');
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => fail(err, 'shutdown failed'),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  // Reconnects are unlimited, so a close we did not ask for (e.g. auth revoked) is fatal.
  void running.ctx.nc.closed().then((err) => {
    if (!shuttingDown) fail(err ?? new Error('NATS connection closed'), 'lost NATS connection');
  });
}

/** How a process connects to NATS with the shared settings (NATS_URL, NATS_USER/PASSWORD, NATS_TLS_*). */
export function natsOptions(name: string, config: BaseConfig): ConnectionOptions {
  const tls = natsTlsOptions(config);
  return {
    servers: config.NATS_URL.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    // Replies come back on a per-user inbox prefix, so NATS permissions can allow each user only its own
    // (render-accounts.mjs grants `_INBOX_<user>.>`): named after the NATS user, so an instance named
    // `ipam-2` connecting as `ipam` still gets `_INBOX_ipam`; without a user, after the service.
    inboxPrefix: `_INBOX_${config.NATS_USER ?? name}`,
    ...(config.NATS_USER === undefined ? {} : { user: config.NATS_USER }),
    ...(config.NATS_PASSWORD === undefined ? {} : { pass: config.NATS_PASSWORD }),
    ...(tls === undefined ? {} : { tls }),
  };
}

/** nats.js's codes for "no server answered" (as opposed to a server that refused us). */
const UNREACHABLE = new Set(['CONNECTION_REFUSED', 'CONNECTION_TIMEOUT', 'TIMEOUT', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);

/** Connect, retrying every second while no server can be reached (logged once); any other failure is thrown. */
async function connectWhenReachable(options: ConnectionOptions, logger: Logger): Promise<NatsConnection> {
  for (let attempt = 0; ; attempt++) {
    try {
      const nc = await connect(options);
      if (attempt > 0) logger.info({ attempts: attempt + 1 }, 'NATS reachable again');
      return nc;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !UNREACHABLE.has(code)) throw err;
      if (attempt === 0) logger.warn({ err, servers: options.servers }, 'NATS unreachable: waiting for it (retrying every second)');
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/** Not ready while NATS is reconnecting: requests would only time out. */
function trackConnection(nc: NatsConnection): () => boolean {
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') connected = false;
      else if (s.type === 'reconnect') connected = true;
    }
  })();
  return () => connected && !nc.isClosed() && !nc.isDraining();
}
