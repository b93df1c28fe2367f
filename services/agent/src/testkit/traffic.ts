/**
 * Real traffic between lab VMs (namespaces), for the security-group tests:
 * a TCP echo / UDP receiver server per VM and one-shot clients, all with
 * Python's standard library (`/usr/bin/python3`). A client answers whether
 * the exchange completed (the reply passed too); every wait is bounded.
 *
 * Servers are processes this module started: they are stopped by PID
 * (`stop()`, `stopAllServers()`, and at process exit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { nodeExec } from '../kernel/exec.js';

export const PYTHON = '/usr/bin/python3';

const SERVER = String.raw`
import socket, sys, threading
tcp = [int(p) for p in sys.argv[1].split(',') if p]
udp = [int(p) for p in sys.argv[2].split(',') if p]
def sock(kind, port):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('::', port))
    return s
def echo(c):
    try:
        c.settimeout(5)
        c.sendall(c.recv(1024))
    except Exception:
        pass
    finally:
        c.close()
def serve_tcp(s):
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()
def serve_udp(s, port):
    while True:
        d, a = s.recvfrom(2048)
        print('udp %d %s %s' % (port, a[0], d.decode(errors='replace')), flush=True)
for p in tcp:
    threading.Thread(target=serve_tcp, args=(sock(socket.SOCK_STREAM, p),), daemon=True).start()
for p in udp:
    threading.Thread(target=serve_udp, args=(sock(socket.SOCK_DGRAM, p), p), daemon=True).start()
print('ready', flush=True)
threading.Event().wait()
`;

const CLIENT = String.raw`
import socket, sys
host, port, src, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(timeout)
try:
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    s.sendall(b'strata')
    sys.exit(0 if s.recv(1024) == b'strata' else 2)
except Exception as e:
    print(e, file=sys.stderr)
    sys.exit(1)
`;

const SEND = String.raw`
import socket, sys
host, port, sport, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', sport))
s.sendto(payload.encode(), (host, port))
`;

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
});

export interface Server {
  /** Lines printed so far (`udp <port> <peer> <payload>` per datagram). */
  readonly lines: string[];
  /** Resolves when a line matches, rejects after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** A TCP echo server (dual stack) on `tcp` ports and a UDP receiver on `udp` ports, inside namespace `ns`. */
export async function startServer(ns: string, tcp: number[], udp: number[] = []): Promise<Server> {
  const child = spawn('ip', ['netns', 'exec', ns, PYTHON, '-u', '-c', SERVER, tcp.join(','), udp.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let buf = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of waiters.splice(0)) {
        if (w.re.test(line)) w.resolve(line);
        else waiters.push(w);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('close', () => (running.delete(child), resolve())));
  const waitFor = (re: RegExp, timeoutMs = 10_000): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${re} from the server in ${ns} (stderr: ${err.trim()})`)), timeoutMs);
      waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  };
  const server: Server = {
    lines,
    waitFor,
    stop: async () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
  try {
    await waitFor(/^ready$/);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

export interface TcpOptions {
  /** Bind this source address first (a spoofed one, for the anti-spoofing tests). */
  source?: string;
  /** Seconds for connect + echo (default 1.5: a denied flow's SYN is dropped, so this bounds the wait). */
  timeoutSeconds?: number;
}

/** One TCP connection from `ns`: connect, send, read the echo. True when the whole exchange completed. */
export async function tcpExchange(ns: string, host: string, port: number, opts: TcpOptions = {}): Promise<boolean> {
  const r = await nodeExec.run(['ip', 'netns', 'exec', ns, PYTHON, '-c', CLIENT, host, String(port), opts.source ?? '', String(opts.timeoutSeconds ?? 1.5)]);
  return r.code === 0;
}

/** An exchange expected to work: tried a few times (ARP/ND may still be resolving), bounded. */
export async function tcpExchangeEventually(ns: string, host: string, port: number, opts: TcpOptions = {}, attempts = 4): Promise<boolean> {
  for (let i = 0; i < attempts; i++) if (await tcpExchange(ns, host, port, { timeoutSeconds: 3, ...opts })) return true;
  return false;
}

/** One UDP datagram from `ns`, source port `sport`. */
export async function udpSend(ns: string, host: string, port: number, sport: number, payload: string): Promise<void> {
  const r = await nodeExec.run(['ip', 'netns', 'exec', ns, PYTHON, '-c', SEND, host, String(port), String(sport), payload]);
  if (r.code !== 0) throw new Error(`udp send from ${ns} failed: ${r.stderr.trim()}`);
}

/** Stop every server this process started. */
export async function stopAllServers(): Promise<void> {
  await Promise.all(
    [...running].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return resolve();
          c.once('close', () => resolve());
          process.kill(c.pid, 'SIGTERM');
        }),
    ),
  );
}
