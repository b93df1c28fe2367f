#!/usr/bin/env node
/**
 * strata-vm: the compose lab's stand-in for a compute service (Nova +
 * libvirt), run inside a hypervisor container. Not a Strata component: it
 * does what the hypervisor does before Strata's agent takes over, exactly as
 * `Vm` does in infra/lab. A VM is a network namespace `vm-<name>` whose eth0
 * has the port's MAC; the other end of the veth stays in the hypervisor,
 * named after the port (`portDevice`), where the agent finds and plugs it.
 *
 *   strata-vm create NAME --port ID --mac MAC [--ip ADDR/LEN]... [--gateway IP] [--mtu N]
 *   strata-vm delete NAME
 *   strata-vm list
 *   strata-vm exec NAME CMD [ARG...]
 *   strata-vm serve NAME PORT...       TCP listeners that answer with the VM's name
 *   strata-vm connect NAME IP PORT     prints who answered; exit 0 if a connection completed,
 *                                      3 if none did (refused, timed out, dropped, unreachable)
 *   strata-vm ping NAME IP             one echo request, 1 s deadline; exit 0 on a reply, 3 on none
 * Any other exit code of connect or ping: the probe could not run (probe.ts).
 *
 * Every command is idempotent: `create` on an existing VM fixes it up,
 * `serve` skips listeners that run, `delete` of a missing VM succeeds.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { portDevice } from '@strata/contracts';
import { probeExitCode, type Probe } from './probe.js';

const RUN_DIR = '/run/strata-vm';
const NAME = /^[a-z0-9][a-z0-9-]{0,19}$/;

class UsageError extends Error {}

const nsOf = (name: string): string => `vm-${name}`;

/** Run argv; throw with its stderr unless `allowFail`. */
function run(argv: string[], allowFail = false): { ok: boolean; out: string; err: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  const ok = r.status === 0;
  if (!ok && !allowFail) throw new Error(`${argv.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.error?.message || '').trim()}`);
  return { ok, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function vmName(arg: string | undefined): string {
  if (!arg || !NAME.test(arg)) throw new UsageError(`a VM name is 1-20 of a-z 0-9 -, starting alphanumeric (got ${JSON.stringify(arg ?? '')})`);
  return arg;
}

function exists(name: string): boolean {
  return existsSync(join('/run/netns', nsOf(name)));
}

function options(args: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i]!;
    const value = args[i + 1];
    if (!key.startsWith('--') || value === undefined) throw new UsageError(`expected --option value pairs, got ${JSON.stringify(args.slice(i).join(' '))}`);
    out.set(key.slice(2), [...(out.get(key.slice(2)) ?? []), value]);
  }
  return out;
}

function create(name: string, args: string[]): void {
  const o = options(args);
  const portId = o.get('port')?.[0];
  const mac = o.get('mac')?.[0];
  if (!portId || !mac) throw new UsageError('create needs --port ID and --mac MAC');
  const ns = nsOf(name);
  const dev = portDevice(portId);
  if (!exists(name)) {
    run(['ip', 'netns', 'add', ns]);
    run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  if (!run(['ip', 'link', 'show', dev], true).ok) {
    // A NIC of another port (the VM was re-created for a new port) goes first.
    run(['ip', '-n', ns, 'link', 'del', 'eth0'], true);
    run(['ip', 'link', 'add', dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  }
  run(['ip', '-n', ns, 'link', 'set', 'eth0', 'address', mac]);
  const mtu = o.get('mtu')?.[0];
  if (mtu) run(['ip', '-n', ns, 'link', 'set', 'eth0', 'mtu', mtu]);
  run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  for (const cidr of o.get('ip') ?? []) run(['ip', '-n', ns, 'addr', 'replace', cidr, 'dev', 'eth0', ...(cidr.includes(':') ? ['nodad'] : [])]);
  const gw = o.get('gateway')?.[0];
  if (gw) run(['ip', '-n', ns, gw.includes(':') ? '-6' : '-4', 'route', 'replace', 'default', 'via', gw]);
  console.log(`${name}: namespace ${ns}, eth0 ${mac}, hypervisor side ${dev}`);
}

function pidAlive(file: string): boolean {
  try {
    process.kill(Number(readFileSync(file, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

function serve(name: string, ports: string[]): void {
  if (!exists(name)) throw new Error(`no VM ${name} on this hypervisor`);
  if (ports.length === 0 || ports.some((p) => !/^\d{1,5}$/.test(p))) throw new UsageError('serve needs TCP port numbers');
  const dir = join(RUN_DIR, name);
  mkdirSync(dir, { recursive: true });
  for (const port of ports) {
    const pidFile = join(dir, `tcp-${port}.pid`);
    if (pidAlive(pidFile)) continue;
    // busybox nc -ll: a persistent listener that runs `echo NAME` per connection.
    const child = spawn('ip', ['netns', 'exec', nsOf(name), 'busybox', 'nc', '-ll', '-p', port, '-e', '/bin/echo', name], {
      detached: true,
      stdio: 'ignore',
    });
    writeFileSync(pidFile, String(child.pid));
    child.unref();
  }
  console.log(`${name}: answering on tcp ${ports.join(', ')}`);
}

function stopListeners(name: string): void {
  const dir = join(RUN_DIR, name);
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    try {
      process.kill(Number(readFileSync(join(dir, f), 'utf8')), 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Run argv in the VM, on this process's stdio. */
function inVm(name: string, argv: string[]): number {
  if (!exists(name)) throw new Error(`no VM ${name} on this hypervisor`);
  return spawnSync('ip', ['netns', 'exec', nsOf(name), ...argv], { stdio: 'inherit' }).status ?? 1;
}

/** A reachability probe in the VM (reading no stdin, which nc would wait on): its exit code says answered, no answer, or could not run (probe.ts). */
function probeFrom(name: string, probe: Probe, argv: string[]): number {
  if (!exists(name)) throw new Error(`no VM ${name} on this hypervisor`);
  const r = spawnSync('ip', ['netns', 'exec', nsOf(name), ...argv], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  const stderr = r.stderr ?? r.error?.message ?? '';
  process.stderr.write(stderr);
  return probeExitCode(probe, r.status, stderr);
}

function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'create':
      create(vmName(rest[0]), rest.slice(1));
      return 0;
    case 'delete': {
      const name = vmName(rest[0]);
      stopListeners(name);
      if (exists(name)) run(['ip', 'netns', 'del', nsOf(name)]); // takes eth0 and its hypervisor end with it
      return 0;
    }
    case 'list':
      for (const ns of existsSync('/run/netns') ? readdirSync('/run/netns') : []) if (ns.startsWith('vm-')) console.log(ns.slice(3));
      return 0;
    case 'exec':
      if (rest.length < 2) throw new UsageError('exec needs a VM name and a command');
      return inVm(vmName(rest[0]), rest.slice(1));
    case 'serve':
      serve(vmName(rest[0]), rest.slice(1));
      return 0;
    case 'connect': {
      const [name, ip, port] = rest;
      if (!ip || !port) throw new UsageError('connect needs NAME IP PORT');
      return probeFrom(vmName(name), 'connect', ['busybox', 'nc', '-w', '2', ip, port]);
    }
    case 'ping': {
      const [name, ip] = rest;
      if (!ip) throw new UsageError('ping needs NAME IP');
      return probeFrom(vmName(name), 'ping', ['ping', '-c', '1', '-W', '1', '-q', ip]);
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd ?? '')}`);
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`strata-vm: ${(e as Error).message}\n`);
  if (e instanceof UsageError) process.stderr.write('usage: strata-vm create|delete|list|exec|serve|connect|ping ... (see the header of infra/docker/src/vm/main.ts)\n');
  process.exitCode = e instanceof UsageError ? 2 : 1;
}
