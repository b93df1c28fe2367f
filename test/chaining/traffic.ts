/** Traffic for the chaining tests: many TCP flows, a UDP echo and its probe, from VM namespaces. */
import { CommandError, sh, startProcess, type ManagedProcess } from '@strata/lab';

const UDP_ECHO = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("listening", flush=True)
while True:
    data, peer = s.recvfrom(2048); s.sendto(data, peer)
`;

/** A UDP echo server inside `ns` (stopped by PID with the handle). */
export async function udpEcho(ns: string, port: number): Promise<ManagedProcess> {
  const p = startProcess(`udp-echo-${ns}-${port}`, ['ip', 'netns', 'exec', ns, 'python3', '-c', UDP_ECHO, String(port)], { readyWhen: /listening/ });
  await p.ready;
  return p;
}

/** One datagram to `ip:port` and its echo within 1.5 s. */
export async function udpEchoes(ns: string, ip: string, port: number): Promise<boolean> {
  const probe = [
    'import socket, sys',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1.5)',
    `s.sendto(b"strata", ("${ip}", ${port}))`,
    'try:',
    '    sys.exit(0 if s.recv(64) == b"strata" else 4)',
    'except socket.timeout:',
    '    sys.exit(3)',
  ].join('\n');
  try {
    await sh(['ip', 'netns', 'exec', ns, 'python3', '-c', probe], { timeoutMs: 10_000 });
    return true;
  } catch (e) {
    if (e instanceof CommandError && e.code === 3) return false;
    throw e;
  }
}

/**
 * `count` TCP connections from `ns` to `ip:port`, one after another, each
 * completing its handshake and reading the server's answer; returns the
 * local ports of those that succeeded (each flow's identity).
 */
export async function tcpFlows(ns: string, ip: string, port: number, count: number): Promise<number[]> {
  const probe = [
    'import socket',
    'ok = []',
    `for i in range(${count}):`,
    '    try:',
    `        s = socket.create_connection(("${ip}", ${port}), timeout=2)`,
    '        s.recv(64); ok.append(s.getsockname()[1]); s.close()',
    '    except OSError:',
    '        pass',
    'print(" ".join(map(str, ok)))',
  ].join('\n');
  const out = await sh(['ip', 'netns', 'exec', ns, 'python3', '-c', probe], { timeoutMs: 120_000 });
  return out.trim() === '' ? [] : out.trim().split(/\s+/).map(Number);
}
