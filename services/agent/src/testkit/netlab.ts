/**
 * A small lab in network namespaces for the agent's kernel tests:
 *
 *   <prefix>fab         underlay switch (bridge ul0)
 *   <prefix>hvN         hypervisors, eth0 = 198.18.0.(10+N)/24 on the underlay
 *   <prefix>vm-<name>   VMs: eth0 whose peer (the port device) sits in a hypervisor
 *
 * The agent core runs in-process against a hypervisor through `inNetns`.
 * Nothing outside the lab's namespaces is touched; `destroy()` stops every
 * process inside them (the DHCP servers the dataplanes started, traffic
 * servers) and deletes every namespace with the prefix, also when the test
 * failed (@strata/testing's teardownNamespaces, as every harness).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespaceInode, namespacesWithPrefix, teardownNamespaces, teardownNamespacesSync, type OwnedNamespaces } from '@strata/testing';
import { inNetns, nodeExec, runOk, type Exec } from '../kernel/exec.js';
import type { Dataplane } from '../dataplane/dataplane.js';
import { hostDataplane } from '../dataplane/managers.js';
import { DnsmasqManager } from '../kernel/dnsmasq.js';
import { stopAllServers } from './traffic.js';

const labs = new Set<NetLab>();
process.on('exit', () => {
  for (const lab of labs) teardownNamespacesSync(lab.owned());
});

export const sh = (argv: string[], input?: string): Promise<string> => runOk(nodeExec, argv, input);
export const shOk = async (argv: string[]): Promise<boolean> => (await nodeExec.run(argv)).code === 0;

export interface LabHost {
  name: string;
  ns: string;
  vtepIp: string;
  exec: Exec;
  nsPrefix: string;
  stateDir: string;
  dataplane: Dataplane;
  /** The host's DHCP servers, as their PID files record them. */
  dnsmasq: DnsmasqManager;
}

export interface LabVm {
  name: string;
  ns: string;
  mac: string;
  device: string;
  host: LabHost;
}

export class NetLab {
  readonly hosts: LabHost[] = [];
  readonly vms = new Map<string, LabVm>();
  readonly fabric: string;
  private readonly dir: string;
  /** Inodes of the namespaces this lab made: their processes are found even after a name is gone. */
  private readonly inodes = new Set<number>();

  private constructor(readonly prefix: string) {
    this.fabric = `${prefix}fab`;
    this.dir = mkdtempSync(join(tmpdir(), `${prefix}agent-`));
  }

  static async create(hosts: number): Promise<NetLab> {
    const prefix = `sa${process.pid}${randomBytes(2).toString('hex')}-`;
    const lab = new NetLab(prefix);
    labs.add(lab);
    try {
      await lab.addNamespace(lab.fabric);
      await sh(['ip', '-n', lab.fabric, 'link', 'add', 'ul0', 'type', 'bridge']);
      await sh(['ip', '-n', lab.fabric, 'link', 'set', 'ul0', 'up']);
      for (let i = 1; i <= hosts; i++) await lab.addHost(i);
      return lab;
    } catch (err) {
      await lab.destroy();
      throw err;
    }
  }

  host(i: number): LabHost {
    const h = this.hosts[i - 1];
    if (!h) throw new Error(`no host ${i}`);
    return h;
  }

  private async addHost(i: number): Promise<void> {
    const name = `hv${i}`;
    const ns = `${this.prefix}${name}`;
    const vtepIp = `198.18.0.${10 + i}`;
    await this.addNamespace(ns);
    await sh(['ip', '-n', this.fabric, 'link', 'add', name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await sh(['ip', '-n', this.fabric, 'link', 'set', name, 'master', 'ul0', 'up']);
    await sh(['ip', '-n', ns, 'addr', 'add', `${vtepIp}/24`, 'dev', 'eth0']);
    await sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    const exec = inNetns(nodeExec, ns);
    const nsPrefix = `${this.prefix}${name}-`;
    const stateDir = join(this.dir, name);
    this.hosts.push({ name, ns, vtepIp, exec, nsPrefix, stateDir, dataplane: hostDataplane({ exec, nsPrefix, stateDir }), dnsmasq: new DnsmasqManager({ exec, nsPrefix, stateDir }) });
  }

  /** A VM with one NIC: eth0 (mac, mtu) in its own namespace, its peer `device` in the hypervisor. */
  async addVm(name: string, host: LabHost, mac: string, device: string, mtu = 1450): Promise<LabVm> {
    const ns = `${this.prefix}vm-${name}`;
    await this.addNamespace(ns);
    await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    const vm: LabVm = { name, ns, mac, device, host };
    await this.attach(vm, host, mtu);
    this.vms.set(name, vm);
    return vm;
  }

  async attach(vm: LabVm, host: LabHost, mtu = 1450): Promise<void> {
    await sh(['ip', '-n', host.ns, 'link', 'add', vm.device, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vm.ns]);
    await sh(['ip', '-n', vm.ns, 'link', 'set', 'eth0', 'address', vm.mac, 'mtu', String(mtu), 'up']);
    vm.host = host;
  }

  /** Live migration, as far as the network sees it: the NIC leaves one hypervisor and appears on another. */
  async move(vm: LabVm, to: LabHost): Promise<void> {
    await sh(['ip', '-n', vm.ns, 'link', 'del', 'eth0']);
    await this.attach(vm, to);
  }

  /** Static address and default route, as a cloud image configured from DHCP would have. */
  async configure(vm: LabVm, cidr: string, gateway?: string): Promise<void> {
    const v6 = cidr.includes(':');
    await sh(['ip', '-n', vm.ns, 'addr', 'add', cidr, 'dev', 'eth0', ...(v6 ? ['nodad'] : [])]);
    if (gateway) await sh(['ip', '-n', vm.ns, v6 ? '-6' : '-4', 'route', 'replace', 'default', 'via', gateway]);
  }

  /** One echo request with a 1 s deadline; the reply's TTL, or null. */
  async ping(vm: LabVm, ip: string): Promise<number | null> {
    const r = await nodeExec.run(['ip', 'netns', 'exec', vm.ns, 'ping', '-n', '-c', '1', '-W', '1', ip]);
    if (r.code !== 0) return null;
    const m = /ttl=(\d+)/.exec(r.stdout);
    return m ? Number(m[1]) : null;
  }

  /** Ping until answered, bounded (the data plane may still be converging); returns the reply TTL. */
  async pingEventually(vm: LabVm, ip: string, attempts = 20): Promise<number> {
    for (let i = 0; i < attempts; i++) {
      const ttl = await this.ping(vm, ip);
      if (ttl !== null) return ttl;
    }
    throw new Error(`${vm.name} cannot reach ${ip}`);
  }

  private async addNamespace(name: string): Promise<void> {
    await sh(['ip', 'netns', 'add', name]);
    const inode = namespaceInode(name);
    if (inode !== null) this.inodes.add(inode);
  }

  /** The namespaces with this lab's prefix (the dataplanes' routing domains among them) and those it made. */
  owned(): OwnedNamespaces {
    return { names: namespacesWithPrefix(this.prefix), inodes: this.inodes };
  }

  /** Stop traffic servers, then every process in the lab's namespaces (the DHCP servers); delete the namespaces and the state. */
  async destroy(): Promise<void> {
    await stopAllServers();
    await teardownNamespaces(this.owned());
    rmSync(this.dir, { recursive: true, force: true });
    labs.delete(this);
  }
}
