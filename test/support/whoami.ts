/** A TCP "who am I" service and its client: the server answers every connection with the peer address it sees. */
import { CommandError, eventually, sh, startProcess, type ManagedProcess } from '@strata/lab';

const SERVER = `
import socket, sys, threading
v6 = sys.argv[1] == "6"
def serve(port):
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::" if v6 else "0.0.0.0", port)); s.listen(128)
    while True:
        c, peer = s.accept(); c.sendall(peer[0].encode()); c.close()
for p in sys.argv[2:]:
    threading.Thread(target=serve, args=(int(p),), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
`;

/** Serve "who am I" on `ports` inside namespace `ns`, over IPv4 or (`family` 6) IPv6 (stopped by PID with the handle). */
export async function whoamiServer(ns: string, ports: number[], family: 4 | 6 = 4): Promise<ManagedProcess> {
  const p = startProcess(`whoami${family === 6 ? '6' : ''}-${ns}-${ports.join('-')}`, ['ip', 'netns', 'exec', ns, 'python3', '-c', SERVER, String(family), ...ports.map(String)], { readyWhen: /listening/ });
  await p.ready;
  return p;
}

/** The probe's exit code when it ran and the network made no connection (refused, timed out, unreachable). */
const NO_CONNECTION = 3;

/**
 * Connect from namespace `ns` and return the address the server saw, or null when the network made no connection
 * within 1.5 s. A probe that could not run (no namespace, no python3, a bad address) throws: it saw nothing, so it
 * must not pass for a refusal.
 */
export async function whoami(ns: string, ip: string, port: number): Promise<string | null> {
  const probe = [
    'import errno, socket, sys',
    'try:',
    `    s = socket.create_connection(("${ip}", ${port}), timeout=1.5)`,
    'except socket.timeout:',
    `    sys.exit(${NO_CONNECTION})`,
    'except OSError as e:',
    `    if e.errno in (errno.ECONNREFUSED, errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH): sys.exit(${NO_CONNECTION})`,
    '    raise',
    'print(s.recv(64).decode())',
  ].join('\n');
  try {
    return (await sh(['ip', 'netns', 'exec', ns, 'python3', '-c', probe], { timeoutMs: 10_000 })).trim();
  } catch (e) {
    if (e instanceof CommandError && e.code === NO_CONNECTION) return null;
    throw e;
  }
}

/** Retry `whoami` until it answers (the data plane converges asynchronously), bounded; then what it saw. */
export async function whoamiEventually(ns: string, ip: string, port: number, attempts = 40): Promise<string | null> {
  let seen: string | null = null;
  await eventually(async () => (seen = await whoami(ns, ip, port)) !== null, `${ns} -> ${ip}:${port}`, attempts).catch(() => undefined);
  return seen;
}
