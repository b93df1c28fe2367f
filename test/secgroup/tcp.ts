/** Real TCP between VM namespaces: listeners on several ports, and a connect probe. */
import { startProcess, succeeds, type ManagedProcess, type Vm } from '@strata/lab';

const SERVER = `
import socket, sys, threading
def serve(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(64)
    while True:
        c, _ = s.accept(); c.sendall(b"ok"); c.close()
for p in sys.argv[1:]:
    threading.Thread(target=serve, args=(int(p),), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
`;

/** Listen on `ports` inside the VM; stopped by PID with the returned handle. */
export async function listen(vm: Vm, ports: number[]): Promise<ManagedProcess> {
  const p = startProcess(`listener-${vm.name}`, ['ip', 'netns', 'exec', vm.ns.name, 'python3', '-c', SERVER, ...ports.map(String)], {
    readyWhen: /listening/,
  });
  await p.ready;
  return p;
}

/** One TCP connection attempt that must complete the handshake and read the server's reply within 1.5 s. */
export function connects(from: Vm, ip: string, port: number): Promise<boolean> {
  const probe = `import socket; s = socket.create_connection(("${ip}", ${port}), timeout=1.5); assert s.recv(2) == b"ok"`;
  return succeeds(['ip', 'netns', 'exec', from.ns.name, 'python3', '-c', probe], 10_000);
}
