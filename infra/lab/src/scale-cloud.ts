/**
 * The cloud of the scale simulation (issue 18), built through the real
 * services' commands, and a record of it that says which hosts each change
 * concerns (what hostview should send them, and nothing to the others).
 *
 * Shape: hosts `sim-1…sim-N`, in blocks of `span` hosts. Every network
 * belongs to its own tenant and spans one block: each host of the block has
 * `portsPerHostPerNet` ports on it, so a host is in portsPerHost ÷
 * portsPerHostPerNet networks. A network's ports are split into groups of
 * `portsPerGroup`; each group's rules are Neutron's default ones (egress
 * anything, ingress from the group itself), so a host holds the member
 * sets of its own ports' groups. Nothing of a network is any business of
 * a host outside its block. Addresses: VTEPs in 198.18.0.0/15 (underlay),
 * H-IPs from 198.19.0.0/16, tenant subnets 10.x.y.0/24 (nothing of it is
 * ever configured on this machine: the hypervisors are simulated).
 */
import type { IpamClient, Principal, SecgroupClient } from './control-client.js';
import { ADMIN } from './control-client.js';

export interface ScaleSpec {
  hosts: number;
  /** Ports bound to each host. */
  portsPerHost: number;
  /** Hosts per block (a network spans one block; default 10). */
  span?: number;
  /** Ports of one network on each host of its block (default 2). */
  portsPerHostPerNet?: number;
  /** Ports per security group (default 10). */
  portsPerGroup?: number;
  /** Commands in flight (default 32). */
  concurrency?: number;
}

export interface ScalePort {
  id: string;
  mac: string;
  ip: string;
  host: string;
  networkId: string;
  groupId: string;
}

export interface ScaleNetwork {
  id: string;
  tenant: string;
  index: number;
  hosts: string[];
  groups: string[];
}

export const scaleHostId = (i: number): string => `sim-${i}`;
/** Host i's VTEP (i from 1), in the underlay range 198.18.0.0/15. */
export const scaleVtep = (i: number): string => `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

/** What the cloud holds, as built: the oracle of who must hear of what. */
export class ScaleCloud {
  readonly ports = new Map<string, ScalePort>();
  readonly networks: ScaleNetwork[] = [];
  readonly groupNetwork = new Map<string, ScaleNetwork>();
  private readonly members = new Map<string, Set<string>>();

  constructor(readonly hosts: string[]) {}

  who(n: ScaleNetwork): Principal {
    return { tenant: n.tenant, admin: false };
  }

  /** The hosts of a network's block: each has ports on it, so every change of the network concerns them all. */
  hostsOfNetwork(networkId: string): string[] {
    const n = this.networks.find((x) => x.id === networkId);
    if (!n) throw new Error(`no network ${networkId}`);
    return n.hosts;
  }

  /** Hosts with a port in the group (they hold its rules, and its member set: the rules name the group itself). */
  hostsWithMembers(groupId: string): Set<string> {
    return new Set([...(this.members.get(groupId) ?? [])].map((p) => this.ports.get(p)!.host));
  }

  record(p: ScalePort): void {
    const old = this.ports.get(p.id);
    if (old) this.members.get(old.groupId)?.delete(p.id);
    this.ports.set(p.id, p);
    let m = this.members.get(p.groupId);
    if (!m) this.members.set(p.groupId, (m = new Set()));
    m.add(p.id);
  }
}

/** Run `count` tasks, at most `concurrency` at once. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) await task(i);
    }),
  );
}

export interface ScaleClients {
  ipam: IpamClient;
  secgroup: SecgroupClient;
}

/** Register the hypervisors: VTEP and an H-IP each. */
export async function registerScaleHosts(c: ScaleClients, hosts: number, concurrency = 32): Promise<string[]> {
  const hostPool = await c.ipam.command('pool.create', { name: 'scale-host-ips', cidr: '198.19.0.0/16', purpose: 'host-ip' }, ADMIN);
  const ids = Array.from({ length: hosts }, (_, i) => scaleHostId(i + 1));
  await pool(hosts, concurrency, async (i) => {
    await c.ipam.command('hypervisor.register', { id: ids[i]!, vtepIp: scaleVtep(i + 1), hostPoolId: hostPool.id }, ADMIN);
  });
  return ids;
}

/** A port on `host` in network `n`, in group `groupId` (its groups set right after its creation, as Neutron's create does in one request). */
export async function createScalePort(c: ScaleClients, cloud: ScaleCloud, n: ScaleNetwork, host: string, groupId: string, name: string): Promise<ScalePort> {
  const who = cloud.who(n);
  const p = await c.ipam.command('port.create', { networkId: n.id, name, hostId: host }, who);
  await c.secgroup.command('port.setGroups', { portId: p.id, groupIds: [groupId] }, who);
  const port: ScalePort = { id: p.id, mac: p.mac, ip: p.fixedIps[0]!.ip, host, networkId: n.id, groupId };
  cloud.record(port);
  return port;
}

/** Move a port to another group of its network. */
export async function moveScalePort(c: ScaleClients, cloud: ScaleCloud, port: ScalePort, groupId: string): Promise<ScalePort> {
  const n = cloud.groupNetwork.get(groupId)!;
  await c.secgroup.command('port.setGroups', { portId: port.id, groupIds: [groupId] }, cloud.who(n));
  const moved = { ...port, groupId };
  cloud.record(moved);
  return moved;
}

/** Build the cloud for `hosts` (registered already). */
export async function buildScaleCloud(c: ScaleClients, hosts: string[], spec: ScaleSpec, log: (line: string) => void = () => undefined): Promise<ScaleCloud> {
  const span = Math.min(spec.span ?? 10, hosts.length);
  const perNet = spec.portsPerHostPerNet ?? 2;
  const perGroup = spec.portsPerGroup ?? 10;
  const concurrency = spec.concurrency ?? 32;
  if (hosts.length % span !== 0) throw new Error(`${hosts.length} hosts do not split into blocks of ${span}`);
  if (spec.portsPerHost % perNet !== 0) throw new Error(`${spec.portsPerHost} ports per host do not split into ${perNet} per network`);
  const portsPerNet = span * perNet;
  if (portsPerNet % perGroup !== 0) throw new Error(`a network's ${portsPerNet} ports do not split into groups of ${perGroup}`);
  const blocks = hosts.length / span;
  const netsPerBlock = spec.portsPerHost / perNet;
  const cloud = new ScaleCloud(hosts);
  const total = blocks * netsPerBlock;
  if (total > 65_536) throw new Error(`${total} networks: at most 65,536 (one 10.x.y.0/24 each)`);

  let t0 = performance.now();
  await pool(total, concurrency, async (index) => {
    const tenant = `scale-${index}`;
    const who: Principal = { tenant, admin: false };
    const block = index % blocks;
    const net = await c.ipam.command('network.create', { name: `scale-net-${index}` }, who);
    await c.ipam.command('subnet.create', { networkId: net.id, name: `scale-net-${index}-v4`, cidr: `10.${index >> 8}.${index & 255}.0/24` }, who);
    const groups: string[] = [];
    for (let g = 0; g < portsPerNet / perGroup; g++) {
      const group = await c.secgroup.command('group.create', { name: `scale-${index}-${g}`, description: '', egressRules: true }, who);
      await c.secgroup.command('rule.create', { groupId: group.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'any', remoteGroupId: group.id }, who);
      groups.push(group.id);
    }
    const n: ScaleNetwork = { id: net.id, tenant, index, hosts: hosts.slice(block * span, block * span + span), groups };
    cloud.networks[index] = n;
    for (const g of groups) cloud.groupNetwork.set(g, n);
  });
  log(`${total} networks (one tenant each) and ${cloud.groupNetwork.size} groups in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  t0 = performance.now();
  const ports = total * portsPerNet;
  await pool(ports, concurrency, async (i) => {
    const n = cloud.networks[Math.floor(i / portsPerNet)]!;
    const k = i % portsPerNet;
    await createScalePort(c, cloud, n, n.hosts[k % span]!, n.groups[Math.floor(k / perGroup)]!, `scale-${n.index}-${k}`);
    if ((i + 1) % 10_000 === 0) log(`  ${i + 1}/${ports} ports`);
  });
  log(`${ports} ports created and grouped in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return cloud;
}
