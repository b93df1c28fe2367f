import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Readiness } from './readiness.js';

export interface HttpServerOptions {
  /** 0 picks a free port; read the actual one from the handle. */
  port: number;
  host?: string;
  registry: Registry;
  readiness: Readiness;
}

export interface HttpServerHandle {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Metrics and health endpoints only; service APIs never go over HTTP here (they go over NATS). */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const server = createServer((req, res) => {
    route(req, res, options).catch((err: unknown) => {
      send(res, 500, 'text/plain', `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections from a scraper would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, options: HttpServerOptions): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
  switch (path) {
    case '/metrics':
      return send(res, 200, options.registry.contentType, await options.registry.metrics());
    case '/healthz':
      return send(res, 200, 'text/plain', 'ok\n');
    case '/readyz': {
      const report = await options.readiness.report();
      const failed = Object.keys(report.checks).filter((name) => !report.checks[name]?.ok);
      const degraded = Object.keys(report.checks).filter((name) => report.checks[name]?.degraded === true);
      // Degraded is still ready (200): the service serves; the detail tells an operator what needs attention.
      const status = !report.ready ? 'not ready' : report.degraded ? 'degraded' : 'ready';
      const body = { status, failed, degraded, checks: report.checks };
      return send(res, report.ready ? 200 : 503, 'application/json', JSON.stringify(body));
    }
    default:
      return send(res, 404, 'text/plain', 'not found\n');
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
