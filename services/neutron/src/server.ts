/**
 * The Neutron service's HTTP side: node:http in front of the engine
 * (engine.ts does everything Neutron-specific; a framework would add
 * routing and body parsing we need in Neutron's own shape anyway), the
 * service clients behind it. Bodies are read up to a limit (413 beyond,
 * before the rest is read), responses are JSON.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TlsOptions } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import type { NatsConnection } from 'nats';
import { auditContract, chainingContract, ipamContract, natContract, secgroupContract, statusContract } from '@strata/contracts';
import type { TokenValidator } from '@strata/identity';
import { ContractClient, NatsRequester, ReadYourWrites, type CommandSigner, type Logger, type ServiceMetrics } from '@strata/runtime';
import { NeutronEngine, type NeutronResponse } from './engine.js';
import { requestTooLarge } from './errors.js';
import type { NeutronClients, ResourceDefinition } from './resource.js';
import { NEUTRON_RESOURCES } from './resources/index.js';

export interface NeutronServerOptions {
  /** A connection as the NATS user `neutron` (commands and queries to every service). */
  nc: NatsConnection;
  /** Signs every request to the services, as the gRPC API's (they refuse unsigned ones). */
  signer: CommandSigner;
  validator: TokenValidator;
  /** host:port; port 0 picks a free one (answered as `port`). */
  listen: string;
  logger: Logger;
  /** Default: every module in resources/index.ts. */
  resources?: readonly ResourceDefinition[];
  metrics?: ServiceMetrics;
  /** Links' base (Neutron's network_link_prefix); default http://<Host header>. */
  publicUrl?: string | undefined;
  /** Keystone's public URL, named in a 401's WWW-Authenticate. */
  wwwAuthenticateUri?: string | undefined;
  /** Largest request body; default 1 MiB. */
  maxBodyBytes?: number;
  /** How long a NATS request to a service may take (default: the requester's). */
  requestTimeoutMs?: number;
  /** Connection limits; unset ones keep their default (DEFAULT_HTTP_LIMITS). */
  http?: Partial<HttpLimits>;
  /** Serve HTTPS (serverTlsOptions of @strata/runtime: STRATA_NEUTRON_TLS_*); HTTP without. */
  tls?: TlsOptions;
}

/**
 * What one client can hold of the server: node:http keeps a connection that
 * never finishes its headers for a minute and takes any number of them.
 */
export interface HttpLimits {
  /** Open connections at once; more are closed on arrival. */
  maxConnections: number;
  /** A request's headers must arrive within this. */
  headersTimeoutMs: number;
  /** A whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { maxConnections: 1024, headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000 };

export interface NeutronServer {
  port: number;
  /** http(s)://host:port of the listener (no trailing slash). */
  url: string;
  clients: NeutronClients;
  /** Stops accepting, lets requests in flight finish (5 s at most), closes. */
  stop(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const GRACE_MS = 5_000;

/** One ContractClient per service, sharing one ReadYourWrites: a GET after a POST sees the write, whichever service it asks. */
export function neutronClients(nc: NatsConnection, signer: CommandSigner, requestTimeoutMs?: number): NeutronClients {
  const requester = new NatsRequester(nc, { signer, ...(requestTimeoutMs === undefined ? {} : { timeoutMs: requestTimeoutMs }) });
  const ryw = new ReadYourWrites();
  return {
    ipam: new ContractClient(ipamContract, requester, ryw),
    secgroup: new ContractClient(secgroupContract, requester, ryw),
    nat: new ContractClient(natContract, requester, ryw),
    chaining: new ContractClient(chainingContract, requester, ryw),
    status: new ContractClient(statusContract, requester, ryw),
    audit: new ContractClient(auditContract, requester, ryw),
  };
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new Error(`listen address ${JSON.stringify(listen)} is not host:port`);
  return { host: m[1] ?? m[2]!, port };
}

export async function startNeutronServer(opts: NeutronServerOptions): Promise<NeutronServer> {
  const clients = neutronClients(opts.nc, opts.signer, opts.requestTimeoutMs);
  const requests = opts.metrics?.counter('strata_neutron_requests_total', 'Neutron API requests answered', ['method', 'resource', 'status']);
  const duration = opts.metrics?.histogram('strata_neutron_request_duration_seconds', 'Neutron API request time', ['method', 'resource']);
  const engine = new NeutronEngine({
    resources: opts.resources ?? NEUTRON_RESOURCES,
    validator: opts.validator,
    clients,
    logger: opts.logger,
    publicUrl: opts.publicUrl,
    tls: opts.tls !== undefined,
    wwwAuthenticateUri: opts.wwwAuthenticateUri,
    observe: (method, resource, status, seconds) => {
      const m = KNOWN_METHODS.has(method) ? method : 'OTHER';
      requests?.inc({ method: m, resource, status: String(status) });
      duration?.observe({ method: m, resource }, seconds);
    },
  });
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...opts.http };
  const httpOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // node:http checks the two timeouts above only this often (default 30 s).
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    serve(engine, req, res, maxBody).catch((err: unknown) => {
      opts.logger.error({ err }, 'neutron response failed');
      res.destroy();
    });
  };
  // node:https is node:http behind a TLS handshake (which must also finish within the headers timeout).
  const server: Server = opts.tls
    ? createHttpsServer({ ...httpOptions, ...opts.tls, handshakeTimeout: limits.headersTimeoutMs }, handle)
    : createServer(httpOptions, handle);
  server.on('tlsClientError', (err: Error, socket: Socket) => {
    opts.logger.warn({ address: socket.remoteAddress, reason: err.message }, 'TLS handshake refused');
    // node:tls reports a failed or timed-out handshake but leaves the connection open: a silent peer would keep it.
    socket.destroy();
  });
  server.maxConnections = limits.maxConnections;
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const { host, port: wanted } = parseListen(opts.listen);
  await listen(server, host, wanted);
  const port = (server.address() as AddressInfo).port;
  const url = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  opts.logger.info({ listen: opts.listen, port, limits, security: opts.tls ? (opts.tls.requestCert ? 'mutual TLS' : 'TLS') : 'plaintext' }, 'Neutron API listening');

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), GRACE_MS);
    await closed;
    clearTimeout(force);
    for (const s of sockets) s.destroy();
    opts.logger.info('Neutron API stopped');
  };
  return { port, url, clients, stop: () => (stopping ??= stop()) };
}

const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH']);

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function serve(engine: NeutronEngine, req: IncomingMessage, res: ServerResponse, maxBody: number): Promise<void> {
  const body = await readBody(req, maxBody);
  const response: NeutronResponse =
    body === 'too-large'
      ? { status: 413, headers: { 'Content-Type': 'application/json', Connection: 'close' }, body: requestTooLarge().body() }
      : await engine.handle({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
  write(res, response);
}

/** The body, or 'too-large' as soon as it passes the limit (the rest is not read: the connection is closed after the answer). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) {
        done = true;
        req.pause();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!done) reject(err);
    });
  });
}

function write(res: ServerResponse, response: NeutronResponse): void {
  if (response.body === undefined) {
    res.writeHead(response.status, response.headers).end();
    return;
  }
  const data = Buffer.from(JSON.stringify(response.body), 'utf8');
  res.writeHead(response.status, { ...response.headers, 'Content-Length': String(data.length) }).end(data);
}
