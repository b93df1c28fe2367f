/** A VM: a namespace with one NIC bound to a Strata port. */
import { portDevice, type PortView } from '@strata/contracts';
import type { Hypervisor } from './underlay.js';
import { Netns } from './netns.js';
import { chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, sh } from './sh.js';

export class Vm {
  host: Hypervisor;

  constructor(
    readonly name: string,
    readonly ns: Netns,
    /** The port as last known (a test that updates it, e.g. its fixed IPs, records the new view here). */
    public port: PortView,
    host: Hypervisor,
  ) {
    this.host = host;
  }

  /**
   * Boot a VM for `port` on hypervisor `h`: namespace `nsName` whose eth0 has
   * the port's MAC, its peer (named after the port) in the hypervisor — what
   * Nova/libvirt would create; the agent plugs it.
   */
  static async boot(nsName: string, name: string, port: PortView, h: Hypervisor): Promise<Vm> {
    const vm = new Vm(name, await Netns.create(nsName), port, h);
    await vm.attach(h);
    return vm;
  }

  get ip(): string {
    return this.port.fixedIps[0]!.ip;
  }

  /** Create the NIC: eth0 in the VM, its peer (named after the port) in the hypervisor. */
  async attach(h: Hypervisor): Promise<void> {
    const dev = portDevice(this.port.id);
    await sh(['ip', '-n', h.ns.name, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns.name]);
    await this.ns.ip(['link', 'set', 'eth0', 'address', this.port.mac]);
    await this.ns.ip(['link', 'set', 'eth0', 'up']);
    this.host = h;
  }

  /** Remove the NIC (the VM left this hypervisor). */
  async detach(): Promise<void> {
    await this.ns.ip(['link', 'del', 'eth0']).catch(() => undefined);
  }

  /**
   * Configure addresses as a cloud image would from DHCP, but statically:
   * for tests that are not about DHCP. `prefixes` maps subnet id → prefix length,
   * `gateways` subnet id → gateway.
   */
  async configureStatic(subnets: Record<string, { prefixLength: number; gatewayIp: string | null; mtu: number }>): Promise<void> {
    for (const f of this.port.fixedIps) {
      const s = subnets[f.subnetId];
      if (!s) continue;
      await this.ns.ip(['addr', 'replace', `${f.ip}/${s.prefixLength}`, 'dev', 'eth0', ...(f.ip.includes(':') ? ['nodad'] : [])]);
      await this.ns.ip(['link', 'set', 'eth0', 'mtu', String(s.mtu)]);
      if (s.gatewayIp) await this.ns.ip([f.ip.includes(':') ? '-6' : '-4', 'route', 'replace', 'default', 'via', s.gatewayIp]);
    }
  }

  /**
   * Ask for an address by DHCP (busybox udhcpc, as a minimal cloud image
   * would) and configure what the lease says: address, default route, MTU.
   * Returns the lease as udhcpc reported it.
   */
  async dhcp(): Promise<{ ip: string; mask: number; router: string; mtu: number }> {
    const script = join(tmpdir(), `strata-udhcpc-${process.pid}.sh`);
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        '[ "$1" = bound ] || exit 0',
        'ip addr replace "$ip/$mask" dev "$interface"',
        '[ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"',
        '[ -n "$router" ] && ip route replace default via "$router"',
        'echo "lease ip=$ip mask=$mask router=$router mtu=$mtu"',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    const out = await this.ns.exec(['busybox', 'udhcpc', '-f', '-q', '-n', '-i', 'eth0', '-O', 'mtu', '-t', '10', '-T', '1', '-s', script], {
      timeoutMs: 30_000,
    });
    const m = /lease ip=(\S+) mask=(\d+) router=(\S*) mtu=(\d*)/.exec(out);
    if (!m) throw new Error(`${this.name}: no DHCP lease:\n${out}`);
    return { ip: m[1]!, mask: Number(m[2]), router: m[3]!, mtu: Number(m[4]) };
  }

  /** One ping with a 1 s deadline. */
  async pingOnce(ip: string): Promise<boolean> {
    return this.ns.ok(['ping', '-c', '1', '-W', '1', ip], 5_000);
  }

  /** Ping until it answers (the data plane converges asynchronously), bounded. */
  async pingEventually(ip: string, attempts = 40): Promise<void> {
    await eventually(() => this.pingOnce(ip), `${this.name} to reach ${ip}`, attempts, 250);
  }

  /** TTL of the echo reply (to count routed hops). */
  async replyTtl(ip: string): Promise<number | null> {
    const out = await this.ns.exec(['ping', '-c', '1', '-W', '1', ip]).catch(() => '');
    const m = /ttl=(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  }
}
