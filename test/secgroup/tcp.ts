/** Real TCP between VM namespaces for the security-group tests: listeners on several ports, and a connect probe (test/support/whoami.ts). */
import type { ManagedProcess, Vm } from '@strata/lab';
import { whoami, whoamiServer } from '../support/whoami.js';

/** Listen on `ports` inside the VM; stopped by PID with the returned handle. */
export const listen = (vm: Vm, ports: number[]): Promise<ManagedProcess> => whoamiServer(vm.ns.name, ports);

/** One TCP connection attempt that must complete the handshake and read the server's answer within 1.5 s. */
export async function connects(from: Vm, ip: string, port: number): Promise<boolean> {
  return (await whoami(from.ns.name, ip, port)) !== null;
}
