/**
 * A VM's DHCP client that keeps running, as a cloud image's does: busybox
 * udhcpc in the foreground inside the VM's namespace, configuring eth0 from
 * each lease (address, default route, MTU, classless static routes) and
 * reporting every event with what the lease said. `renew()` makes it renew
 * now (SIGUSR1), as it would at T1: a renewal of an address the server no
 * longer gives is refused (DHCPNAK), and the client starts over.
 *
 * Stopped by PID (`ip netns exec` execs udhcpc itself, so the child's PID is
 * the client's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './sh.js';

/** One event of the client's script, with the lease's fields (empty when the server sent none). */
export interface DhcpEvent {
  event: string;
  ip: string;
  mask: string;
  router: string;
  dns: string;
  /** Option 121 as udhcpc prints it: `dest/len gw dest/len gw ...`. */
  staticroutes: string;
  mtu: string;
}

const FIELDS = ['event', 'ip', 'mask', 'router', 'dns', 'staticroutes', 'mtu'] as const;

// The script applies a lease as a minimal cloud image would, then prints it (one line, `|`-separated).
const SCRIPT = [
  '#!/bin/sh',
  'event=$1',
  'case "$event" in',
  '  deconfig) ip -4 addr flush dev "$interface" ;;',
  '  bound|renew)',
  '    ip -4 addr flush dev "$interface"',
  '    ip addr replace "$ip/$mask" dev "$interface"',
  '    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"',
  '    if [ -n "$staticroutes" ]; then',
  '      set -- $staticroutes',
  '      while [ $# -ge 2 ]; do ip route replace "$1" via "$2" dev "$interface"; shift 2; done',
  '    elif [ -n "$router" ]; then ip route replace default via "$router" dev "$interface"; fi ;;',
  'esac',
  `echo "dhcp-event|$event|$ip|$mask|$router|$dns|$staticroutes|$mtu"`,
  '',
].join('\n');

export class DhcpClient {
  readonly events: DhcpEvent[] = [];
  private readonly child: ChildProcess;
  private output = '';

  private constructor(
    readonly ns: string,
    private readonly script: string,
  ) {
    this.child = spawn(
      'ip',
      ['netns', 'exec', ns, 'busybox', 'udhcpc', '-f', '-i', 'eth0', '-O', 'mtu', '-O', 'staticroutes', '-O', 'dns', '-t', '20', '-T', '1', '-A', '1', '-s', script],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const onData = (c: Buffer): void => {
      this.output += c.toString();
      const lines = this.output.split('\n');
      this.output = lines.pop()!;
      for (const line of lines) {
        const parts = line.split('|');
        if (parts[0] !== 'dhcp-event') continue;
        this.events.push(Object.fromEntries(FIELDS.map((f, i) => [f, parts[i + 1] ?? ''])) as unknown as DhcpEvent);
      }
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', () => undefined);
  }

  /** Start the client in namespace `ns` (its NIC is eth0). */
  static start(ns: string): DhcpClient {
    const script = join(tmpdir(), `strata-dhcp-${ns}-${process.pid}.sh`);
    writeFileSync(script, SCRIPT);
    chmodSync(script, 0o755);
    return new DhcpClient(ns, script);
  }

  /** The last lease the client took (`bound` or `renew`), or undefined. */
  get lease(): DhcpEvent | undefined {
    return this.events.filter((e) => e.event === 'bound' || e.event === 'renew').at(-1);
  }

  /** Wait until the client holds a lease satisfying `pred` (bounded, no fixed sleep). */
  async leaseWhere(pred: (e: DhcpEvent) => boolean, what: string): Promise<DhcpEvent> {
    await eventually(async () => this.lease !== undefined && pred(this.lease), `${this.ns}'s DHCP client: ${what}`, 120, 250);
    return this.lease!;
  }

  /** Renew the lease now (udhcpc's SIGUSR1). */
  renew(): void {
    if (this.child.pid !== undefined && this.child.exitCode === null) process.kill(this.child.pid, 'SIGUSR1');
  }

  /** Stop the client (by its PID) and remove its script. */
  async stop(): Promise<void> {
    const exited = new Promise<void>((r) => (this.child.exitCode !== null ? r() : this.child.once('close', () => r())));
    if (this.child.pid !== undefined && this.child.exitCode === null) process.kill(this.child.pid, 'SIGTERM');
    await exited;
    rmSync(this.script, { force: true });
  }
}
