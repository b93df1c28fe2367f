/**
 * One JSON-RPC 1.0 session with an OVSDB server (RFC 7047 §4) over TCP or a
 * unix socket: requests matched to replies by id, the server's `echo`
 * keep-alives answered, its notifications (`update`) handed to a listener.
 * Any failure closes the session and fails what is pending; the caller
 * opens a new one and resynchronises (app/device.ts).
 */
import { connect, type Socket } from 'node:net';
import { JsonSplitter } from './framing.js';

/** Where an OVSDB server listens: `tcp:<ip>:<port>` (IPv6 in brackets) or `unix:<path>`. */
export type OvsdbTarget = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export class OvsdbTargetError extends Error {
  override readonly name = 'OvsdbTargetError';
}

export function parseTarget(target: string): OvsdbTarget {
  if (target.startsWith('unix:') && target.length > 5) return { kind: 'unix', path: target.slice(5) };
  const m = /^tcp:(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(target);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    // ssl: needs the switch's CA and our client certificate, which the device model does not carry yet.
    throw new OvsdbTargetError(`OVSDB target ${JSON.stringify(target)}: must be tcp:<ip>:<port> or unix:<path>`);
  }
  return { kind: 'tcp', host: (m[1] ?? m[2]) as string, port };
}

/** The server answered a request with an error. */
export class OvsdbRpcError extends Error {
  override readonly name = 'OvsdbRpcError';
  constructor(
    readonly method: string,
    readonly error: unknown,
  ) {
    super(`OVSDB ${method}: ${JSON.stringify(error)}`);
  }
}

/** The session ended (closed, failed, timed out) before the reply. */
export class OvsdbClosedError extends Error {
  override readonly name = 'OvsdbClosedError';
}

export interface ConnectionOptions {
  /** A request unanswered this long closes the session. */
  requestTimeoutMs: number;
  onNotification: (method: string, params: unknown[]) => void;
  /** Once, when the session ends for any reason (with the cause, if it failed). */
  onClose: (cause?: Error) => void;
}

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class OvsdbConnection {
  private readonly pending = new Map<number, Pending>();
  private readonly splitter = new JsonSplitter();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly o: ConnectionOptions,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      try {
        for (const msg of this.splitter.push(chunk)) this.dispatch(msg);
      } catch (e) {
        this.close(e as Error);
      }
    });
    socket.on('error', (e) => this.close(e));
    socket.on('close', () => this.close(new OvsdbClosedError('connection closed by the server')));
  }

  static open(target: OvsdbTarget, o: ConnectionOptions, connectTimeoutMs: number): Promise<OvsdbConnection> {
    return new Promise((resolve, reject) => {
      const socket = target.kind === 'tcp' ? connect({ host: target.host, port: target.port }) : connect({ path: target.path });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new OvsdbClosedError(`connect timed out after ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new OvsdbConnection(socket, o));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  request(method: string, params: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new OvsdbClosedError(`${method}: connection closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.close(new OvsdbClosedError(`${method}: no reply within ${this.o.requestTimeoutMs} ms`)), this.o.requestTimeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      this.socket.write(JSON.stringify({ method, params, id }));
    });
  }

  close(cause?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new OvsdbClosedError(`${p.method}: ${cause?.message ?? 'connection closed'}`));
    }
    this.pending.clear();
    this.o.onClose(cause);
  }

  private dispatch(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new OvsdbClosedError(`not a JSON-RPC message: ${JSON.stringify(msg).slice(0, 200)}`);
    const m = msg as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    if (typeof m.method === 'string') {
      const params = Array.isArray(m.params) ? m.params : [];
      // The server's keep-alive: answer it, or it drops us after its inactivity probe.
      if (m.method === 'echo' && m.id !== undefined && m.id !== null) this.socket.write(JSON.stringify({ result: params, error: null, id: m.id }));
      else if (m.id === undefined || m.id === null) this.o.onNotification(m.method, params);
      return;
    }
    const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
    if (!p) return; // a reply to a request that timed out already
    this.pending.delete(m.id as number);
    clearTimeout(p.timer);
    if (m.error !== null && m.error !== undefined) p.reject(new OvsdbRpcError(p.method, m.error));
    else p.resolve(m.result);
  }
}
