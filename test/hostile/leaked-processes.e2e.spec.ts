/**
 * Leaked processes (issue 11, defect 14: "every lab leaks its DHCP servers").
 *
 * The agent starts dnsmasq detached, on purpose: DHCP must outlive an agent
 * restart. So whatever ends the thing a server was started for must end the
 * server too: a routing domain leaving a host, a host being decommissioned,
 * a lab being destroyed, also after an agent crashed and a namespace lost
 * its name while a server still ran inside it. A server left behind holds its
 * network namespace (and the links in it) alive where nothing can name it.
 *
 * The checks read /proc: every process's network namespace, command line and
 * environment. They are restricted to what this lab made (its prefix, the
 * inodes of its namespaces), so other tests running at the same time cannot
 * confuse them, and nothing here signals a process this test did not start.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkView, PortView } from '@strata/contracts';
import { ADMIN, Lab, namespacesWithPrefix, sh } from '@strata/lab';
import { namespaceInode, netnsOfProcess, waitFor } from '@strata/testing';

const tenant = { tenant: 'tenant-leak', admin: false };

describe('no process outlives what it was started for (DHCP servers)', () => {
  let lab: Lab | undefined;

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 2 });
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('a routing domain leaving a host, and the host leaving the cloud, stop its DHCP servers', async () => {
    const l = lab!;
    const net = await network(l, 'leak-a', '10.0.0.0/24');
    const port = await l.ipam.command('port.create', { networkId: net.id, name: 'a1', hostId: 'hv1' }, tenant);
    // An isolated network is its own routing domain on hv1.
    const isolated = await serverOf(l, 'hv1', net.id);

    // Joining a router: the network's domain becomes the router's; the old domain goes with its server.
    const router = await l.ipam.command('router.create', { name: 'leak-r' }, tenant);
    await l.ipam.command('router.addInterface', { id: router.id, subnetId: net.subnetId }, tenant);
    const routed = await serverOf(l, 'hv1', router.id);
    await expectGone(isolated);

    // Leaving it: the router's domain is deleted on hv1, its server stops (the port keeps its network's).
    await l.ipam.command('router.removeInterface', { id: router.id, subnetId: net.subnetId }, tenant);
    const again = await serverOf(l, 'hv1', net.id);
    await expectGone(routed);
    await l.ipam.command('router.delete', { id: router.id }, tenant);

    // The last port leaves: the domain and its server go.
    await l.ipam.command('port.delete', { id: port.id }, tenant);
    await expectGone(again);

    // Decommissioning: ipam refuses while the host has ports, so its servers are gone by then; nothing of hv1 is left after.
    await l.ipam.command('hypervisor.deregister', { id: 'hv1' }, ADMIN);
    await waitFor(() => namespacesWithPrefix(`${l.prefix}hv1-`).length === 0, { timeoutMs: 30_000, message: 'hv1 without routing domains' });
    expect(processesMentioning(join(l.stateDir, 'hv1', 'dnsmasq'), 'arguments')).toEqual([]);
  });

  it('a domain namespace deleted under its DHCP server: the agent makes a new one with a new server and stops the old one', async () => {
    const l = lab!;
    const net = await network(l, 'leak-d', '10.3.0.0/24');
    await l.ipam.command('port.create', { networkId: net.id, name: 'd1', hostId: 'hv2' }, tenant);
    const before = await serverOf(l, 'hv2', net.id);
    // Drift (or a crash half-way through a teardown): the name goes, the server still holds the namespace.
    await sh(['ip', 'netns', 'del', before.ns]);
    const after = await serverOf(l, 'hv2', net.id);
    expect(after.inode).not.toBe(before.inode);
    await expectGone(before);
  });

  it('destroy() stops every process of the lab and leaves no namespace, not even a hidden one', async () => {
    const l = lab!;
    const net = await network(l, 'leak-b', '10.1.0.0/24');
    const other = await network(l, 'leak-c', '10.2.0.0/24');
    await l.ipam.command('port.create', { networkId: net.id, name: 'b1', hostId: 'hv2' }, tenant);
    await l.ipam.command('port.create', { networkId: other.id, name: 'c1', hostId: 'hv2' }, tenant);
    const named = await serverOf(l, 'hv2', net.id);
    const hidden = await serverOf(l, 'hv2', other.id);
    // A crash: the agent dies, and the domain's namespace loses its name while its DHCP server runs on in it.
    // The lab never saw that namespace's inode (the agent made it): only the server's descent can identify it.
    await l.host('hv2').agent!.kill9();
    await sh(['ip', 'netns', 'del', hidden.ns]);
    expect(netnsOfProcess(hidden.pid)).toBe(hidden.inode);

    const inodes = new Set(namespacesWithPrefix(l.prefix).map((n) => namespaceInode(n)!));
    inodes.add(hidden.inode);
    await l.destroy();
    lab = undefined;

    expect(namespacesWithPrefix(l.prefix)).toEqual([]);
    const servers = [named, hidden].filter((s) => netnsOfProcess(s.pid) !== null && commandLine(s.pid).includes(s.conf));
    expect(servers.map((s) => `dnsmasq ${s.pid} of ${s.ns}`)).toEqual([]);
    // Nothing that mentions the lab's prefix (agents, services and servers all have it in their environment or arguments)...
    expect(processesMentioning(l.prefix, 'arguments or environment')).toEqual([]);
    // ...and no process in any namespace the lab made, named or hidden (the before-stop hook's check, restricted to this lab).
    expect(processesInside(inodes)).toEqual([]);
  });
});

interface Server {
  pid: number;
  /** The routing domain's namespace and its inode. */
  ns: string;
  inode: number;
  conf: string;
}

/** Network with one DHCP-enabled IPv4 subnet. */
async function network(lab: Lab, name: string, cidr: string): Promise<NetworkView & { subnetId: string }> {
  const net = await lab.ipam.command('network.create', { name }, tenant);
  const subnet = await lab.ipam.command('subnet.create', { networkId: net.id, cidr }, tenant);
  return { ...net, subnetId: subnet.id };
}

/** The running dnsmasq of routing domain `domainId` on `hostId`, found through the agent's PID file and checked in /proc. */
async function serverOf(lab: Lab, hostId: string, domainId: string): Promise<Server> {
  const ns = `${lab.prefix}${hostId}-d${domainId.replaceAll('-', '').slice(0, 12)}`;
  const base = join(lab.stateDir, hostId, 'dnsmasq', ns);
  const server = await waitFor<Server | null>(
    () => {
      const pid = Number(readOr(`${base}.pid`).trim());
      const inode = namespaceInode(ns);
      if (!(pid > 0) || inode === null || netnsOfProcess(pid) !== inode || !commandLine(pid).includes(`${base}.conf`)) return null;
      return { pid, ns, inode, conf: `${base}.conf` };
    },
    { timeoutMs: 30_000, intervalMs: 100, message: `dnsmasq of domain ${domainId} on ${hostId}` },
  );
  return server!;
}

/** The server has exited, its namespace has no name (its name may be a new namespace's), and no process holds it. */
async function expectGone(s: Server): Promise<void> {
  await waitFor(() => !commandLine(s.pid).includes(s.conf) && namespaceInode(s.ns) !== s.inode && processesInside(new Set([s.inode])).length === 0, {
    timeoutMs: 30_000,
    intervalMs: 100,
    message: `dnsmasq ${s.pid} in ${s.ns} to stop and its namespace to go`,
  });
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

function processesInside(inodes: ReadonlySet<number>): string[] {
  return pids().flatMap((pid) => {
    const ns = netnsOfProcess(pid);
    return ns !== null && inodes.has(ns) ? [`${pid} net:[${ns}] ${commandLine(pid)}`] : [];
  });
}

/** Live processes whose arguments (or environment) contain `text`. */
function processesMentioning(text: string, where: 'arguments' | 'arguments or environment'): string[] {
  return pids().flatMap((pid) => {
    if (netnsOfProcess(pid) === null) return []; // gone, or a zombie: holds nothing
    const found = commandLine(pid).includes(text) || (where !== 'arguments' && readOr(`/proc/${pid}/environ`).includes(text));
    return found ? [`${pid} ${commandLine(pid)}`] : [];
  });
}

function commandLine(pid: number): string {
  return readOr(`/proc/${pid}/cmdline`).replaceAll('\0', ' ').trim();
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
