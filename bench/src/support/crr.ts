/**
 * New TCP connections per second between VM namespaces (connect, then reset:
 * no TIME_WAIT on the client), and a one-connection probe: shared by the
 * throughput benchmarks that look at the first packet of a flow (security
 * group lookups, chain classification).
 */
import { sh, type Vm } from '@strata/lab';
import { log } from './common.js';
import { startInNs, type NsProcess } from './overlay.js';

export const CRR_PORT = 5202;

const SERVER = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", ${CRR_PORT})); s.listen(1024)
print("listening", flush=True)
while True:
    c, _ = s.accept(); c.close()
`;

const client = (ip: string, seconds: number): string => `
import socket, struct, time
end = time.monotonic() + ${seconds}
n = 0; failed = 0
while time.monotonic() < end:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.settimeout(1.0)
    try:
        s.connect(("${ip}", ${CRR_PORT})); n += 1
    except OSError:
        failed += 1
    s.close()
print("connections", n, "failed", failed, "rate", n / ${seconds})
`;

/** The accept loop, listening inside `ns` on CRR_PORT. */
export async function startCrrServer(ns: string): Promise<NsProcess> {
  const server = startInNs(ns, ['python3', '-c', SERVER]);
  await server.waitFor(/listening/, 10_000);
  return server;
}

/** Connections per second from `a` to `ip` over `seconds` (NaN when seconds is 0: skipped). */
export async function crr(a: Vm, ip: string, seconds: number): Promise<number> {
  if (seconds === 0) return NaN;
  const out = await sh(['ip', 'netns', 'exec', a.ns.name, 'python3', '-c', client(ip, seconds)], { timeoutMs: (seconds + 30) * 1000 });
  const m = /connections (\d+) failed (\d+) rate ([\d.]+)/.exec(out);
  if (!m) throw new Error(`CRR client: ${out}`);
  if (Number(m[2]) > 0) log(`  CRR: ${m[2]} connection attempts failed`);
  return Number(m[3]);
}

/** One TCP connection from `a` to the CRR listener at `ip` within 1 s. */
export const tcpConnects = (a: Vm, ip: string): Promise<boolean> =>
  sh(['ip', 'netns', 'exec', a.ns.name, 'python3', '-c', `import socket; socket.create_connection(("${ip}", ${CRR_PORT}), timeout=1).close()`], { timeoutMs: 10_000 }).then(
    () => true,
    () => false,
  );
