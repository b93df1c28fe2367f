/**
 * The API's listening socket. grpc-js closes idle HTTP/2 sessions and dead
 * peers (grpc.max_connection_idle_ms, keepalive) but has no limit on how
 * many TCP connections it accepts, and a connection that never sends the
 * HTTP/2 preface stays open forever: 20,000 silent connections exhausted
 * the API's file descriptors (issue 11, defect 12). So the API listens
 * itself and hands each admitted socket to grpc-js (a connection injector):
 *
 * - at most `maxConnections` open at once, and `maxConnectionsPerAddress`
 *   from one source address: one flooding peer cannot take every slot;
 * - a connection must send the HTTP/2 client preface within
 *   `handshakeTimeoutMs`, or it is closed.
 *
 * A connection over a limit is closed at once (its file descriptor is back
 * before the next accept).
 *
 * With TLS (serverTlsOptions, @strata/runtime) the guard's listener is a TLS server: the limits
 * apply to the TCP connection as before, the TLS handshake must finish
 * within `handshakeTimeoutMs`, and only a connection whose handshake
 * succeeded (with mutual TLS: whose client certificate is of the client
 * CA) reaches grpc-js. A refused handshake is logged with its reason.
 */
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { Logger } from '@strata/runtime';

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  handshakeTimeoutMs: number;
}

/** Bytes of the HTTP/2 client connection preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"). */
const PREFACE_BYTES = 24;

export interface ConnectionGuardStats {
  open: number;
  refused: number;
  handshakeTimeouts: number;
}

export class ConnectionGuard {
  private readonly server: NetServer;
  private readonly sockets = new Set<Socket>();
  private readonly perAddress = new Map<string, number>();
  private refused = 0;
  private handshakeTimeouts = 0;

  constructor(
    private readonly limits: ConnectionLimits,
    /** Where an admitted socket goes (grpc-js's connection injector). */
    private readonly admit: (socket: Socket) => void,
    private readonly logger: Logger,
    /** Told of every connection closed by a limit (for metrics). */
    private readonly onClosed: (reason: 'over-limit' | 'handshake-timeout' | 'tls-refused') => void = () => undefined,
    /** Serve TLS with these options (certificate, key, client CA); plaintext without. */
    private readonly tls?: TlsOptions,
  ) {
    if (tls) {
      // Mutual TLS: OpenSSL verifies the client's certificate, and the guard refuses a connection whose certificate
      // failed (or is missing) itself, rather than letting node:tls drop it silently: so each refusal is logged with
      // its reason. Nothing from such a connection is read: it never reaches grpc-js.
      const mutual = tls.requestCert === true;
      const options = { ...tls, ...(mutual ? { rejectUnauthorized: false } : {}), noDelay: true, handshakeTimeout: limits.handshakeTimeoutMs };
      const server = createTlsServer(options, (secured) => {
        if (mutual && !secured.authorized) {
          const peer = secured.getPeerCertificate();
          const certificate = peer && peer.subject ? { subject: peer.subject.CN, issuer: peer.issuer?.CN, validTo: peer.valid_to } : null;
          const code = String(secured.authorizationError);
          const reason = certificate ? `client certificate refused: ${code}` : 'no client certificate';
          this.onTlsRefused(Object.assign(new Error(reason), { code }), secured.remoteAddress, certificate);
          secured.destroy();
          return;
        }
        this.admit(secured);
      });
      // Before tls's own listener wraps the socket: over a limit, the TCP connection is closed before any handshake.
      server.prependListener('connection', (socket: Socket) => this.onConnection(socket));
      server.on('tlsClientError', (err, socket) => {
        this.onTlsRefused(err, socket.remoteAddress);
        // node:tls reports a failed or timed-out handshake but leaves the connection open: a silent peer would keep it.
        socket.destroy();
      });
      this.server = server;
    } else {
      this.server = createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    }
    // One bad socket must not take the listener down.
    this.server.on('error', (err) => this.logger.error({ err }, 'gRPC listener error'));
  }

  /** Listen on host:port (port 0: any free one); resolves with the port bound. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  stats(): ConnectionGuardStats {
    return { open: this.sockets.size, refused: this.refused, handshakeTimeouts: this.handshakeTimeouts };
  }

  /** Stop accepting; resolves once every admitted connection has closed (see destroyAll). */
  stopAccepting(): Promise<void> {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Close every connection still open (after the graceful shutdown had its chance). */
  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  private tlsRefused = 0;

  private onTlsRefused(err: Error & { code?: string }, address: string | undefined, certificate?: object | null): void {
    this.tlsRefused++;
    this.onClosed('tls-refused');
    // Every refusal says why (a wrong CA, an expired or missing client certificate), until a flood makes it every 1000th.
    if (this.tlsRefused <= 100 || this.tlsRefused % 1000 === 0) {
      this.logger.warn({ address, reason: err.message, code: err.code, ...(certificate === undefined ? {} : { certificate }), refused: this.tlsRefused }, 'TLS handshake refused');
    }
  }

  private onConnection(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.sockets.size >= this.limits.maxConnections || fromAddress >= this.limits.maxConnectionsPerAddress) {
      this.refused++;
      this.onClosed('over-limit');
      if (this.refused % 1000 === 1) {
        this.logger.warn({ address, open: this.sockets.size, fromAddress, refused: this.refused, limits: this.limits }, 'connection refused: over the limit');
      }
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    this.perAddress.set(address, fromAddress + 1);
    // With TLS, tls.Server's handshakeTimeout bounds the handshake (a ClientHello alone is more than a preface's bytes).
    const handshake = setTimeout(() => {
      if (this.tls || socket.bytesRead >= PREFACE_BYTES) return;
      this.handshakeTimeouts++;
      this.onClosed('handshake-timeout');
      socket.destroy();
    }, this.limits.handshakeTimeoutMs);
    handshake.unref();
    socket.once('close', () => {
      clearTimeout(handshake);
      this.sockets.delete(socket);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left === 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    });
    // Errors (resets by the peer) end in 'close'; without a listener they would be thrown.
    socket.on('error', () => undefined);
    if (!this.tls) this.admit(socket);
  }
}

/** `host:port` or `[v6]:port` → its parts. */
export function parseListenAddress(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`listen address ${JSON.stringify(addr)} is not host:port`);
  return { host: (m[1] ?? m[2])!, port };
}
