/**
 * Allowed address pairs with real packets, the whole loop: two VMs on two
 * hypervisors share a virtual IP as an allowed address pair (port security
 * on); the one holding the VIP announces it with a gratuitous ARP (`arping
 * -U`, as keepalived's VRRP master does); the agent on its host sees it
 * (nftables log → its GARP watcher), reports it, IPAM records the owner,
 * hostview gives every host of the network the owner's MAC for the VIP, and
 * a VM on a third hypervisor reaches the VIP at the owner, its ARP answered
 * on its own host. Then the VIP moves to the other VM and everything follows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NetworkView, PortView, SubnetView } from '@strata/contracts';
import { capture, eventually, Lab, type Vm } from '@strata/lab';
import { describeIf, itIf, kernel } from '@strata/testing/suites';

const d = describeIf(kernel(['arping', '-V']));
const withKeepalived = kernel(['keepalived', '--version']);
const VIP = '10.0.0.100';

d('allowed address pairs: a virtual IP moved by gratuitous ARP', () => {
  let lab: Lab;
  let net: NetworkView;
  let subnet: SubnetView;
  const vm: Record<string, Vm> = {};
  const who = { tenant: 'tenant-a', admin: false };

  async function boot(name: string, hostId: string, pairs: boolean): Promise<Vm> {
    const port: PortView = await lab.ipam.command(
      'port.create',
      { networkId: net.id, name, hostId, ...(pairs ? { allowedAddressPairs: [{ ipAddress: VIP }] } : {}) },
      who,
    );
    const v = await lab.addVm(name, port, hostId);
    await v.configureStatic({ [subnet.id]: { prefixLength: 24, gatewayIp: subnet.gatewayIp, mtu: net.mtu } });
    return v;
  }

  const owned = async (v: Vm): Promise<string[]> => (await lab.ipam.query('port.get', { id: v.port.id }, who)).ownedAddresses;
  /** The VIP's neighbour entry on hypervisor `hostId`'s bridge (what its ARP suppression answers from). */
  const bridgeNeighbour = async (hostId: string): Promise<string> => lab.host(hostId).ns.ip(['neigh', 'show', 'to', VIP, 'dev', `sbr${net.vni}`]);
  /** Take the VIP and announce it, as a VRRP master does. */
  async function takeVip(v: Vm): Promise<void> {
    await v.ns.ip(['addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
    await v.ns.exec(['arping', '-U', '-c', '2', '-w', '3', '-I', 'eth0', VIP]).catch(() => '');
  }
  const cacheOfC = (): Promise<string> => vm.c!.ns.ip(['neigh', 'show', 'to', VIP, 'dev', 'eth0']);
  /** c forgets what it knew of the VIP, pings it, and reports the MAC it resolved. */
  async function reachVip(): Promise<string> {
    await vm.c!.ns.ip(['neigh', 'flush', 'to', VIP]).catch(() => '');
    await vm.c!.pingEventually(VIP);
    return cacheOfC();
  }

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 3 });
    net = await lab.ipam.command('network.create', { name: 'vrrp' }, who);
    subnet = await lab.ipam.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/24' }, who);
    vm.a = await boot('a', 'hv1', true);
    vm.b = await boot('b', 'hv2', true);
    vm.c = await boot('c', 'hv3', false);
    await vm.c.pingEventually(vm.a.ip);
    await vm.c.pingEventually(vm.b.ip);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('before any GARP no port owns the VIP and no host answers ARP for it', async () => {
    expect(await owned(vm.a!)).toEqual([]);
    expect(await bridgeNeighbour('hv3')).toBe('');
  });

  it('a GARP from a makes a the owner; c on a third host reaches the VIP at a, resolved on its own host', async () => {
    await takeVip(vm.a!);
    await eventually(async () => (await owned(vm.a!)).includes(VIP), 'a to own the VIP');
    await eventually(async () => (await bridgeNeighbour('hv3')).includes(vm.a!.port.mac), "hv3's bridge to answer the VIP with a's MAC");
    // c's ARP for the VIP is answered on hv3: none crosses the underlay.
    const underlay = capture(lab.fabric.name, 'ul0', 'udp port 4789', 4);
    await underlay.started;
    expect(await reachVip()).toContain(vm.a!.port.mac);
    const lines = await underlay.lines;
    expect(lines.some((l) => l.includes('ICMP echo request'))).toBe(true);
    expect(lines.filter((l) => l.includes(`who-has ${VIP}`))).toEqual([]);
  });

  it('the VIP moves to b by its GARP: ownership, every host and c follow', async () => {
    await vm.a!.ns.ip(['addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
    await takeVip(vm.b!);
    await eventually(async () => (await owned(vm.b!)).includes(VIP), 'b to own the VIP');
    expect(await owned(vm.a!)).toEqual([]);
    await eventually(async () => (await bridgeNeighbour('hv3')).includes(vm.b!.port.mac), "hv3's bridge to answer the VIP with b's MAC");
    await eventually(async () => (await bridgeNeighbour('hv1')).includes(vm.b!.port.mac), "hv1's bridge to answer the VIP with b's MAC");
    // b's own GARP never leaves hv2 (neighbour suppression); hv3's agent re-announces the new owner to its
    // VMs, so c's cache, which still said a, moves without waiting for the entry to expire.
    await eventually(async () => (await cacheOfC()).includes(vm.b!.port.mac), "c's ARP cache to follow the VIP to b");
    expect(await reachVip()).toContain(vm.b!.port.mac);
  });

  it('flapping: each quick takeover (well within the watcher\'s one-second de-duplication) moves the owner, hv3 and c', async () => {
    for (let i = 0; i < 4; i++) {
      const [from, to] = i % 2 === 0 ? [vm.b!, vm.a!] : [vm.a!, vm.b!];
      await from.ns.ip(['addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
      await to.ns.ip(['addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
      // Not awaited: arping lingers a second after its one GARP, and the point is to flap faster than that.
      void to.ns.exec(['arping', '-U', '-c', '1', '-I', 'eth0', VIP]).catch(() => '');
      await eventually(async () => (await owned(to)).includes(VIP), `${to.name} to own the VIP (takeover ${i + 1})`, 120, 20);
      await eventually(async () => (await bridgeNeighbour('hv3')).includes(to.port.mac) && (await cacheOfC()).includes(to.port.mac), `hv3 and c to follow (takeover ${i + 1})`, 120, 20);
    }
  });

  it('and back to a', async () => {
    await vm.b!.ns.ip(['addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
    await takeVip(vm.a!);
    await eventually(async () => (await owned(vm.a!)).includes(VIP), 'a to own the VIP again');
    await eventually(async () => (await bridgeNeighbour('hv3')).includes(vm.a!.port.mac), "hv3's bridge to answer the VIP with a's MAC again");
    expect(await reachVip()).toContain(vm.a!.port.mac);
  });

  it('c, without the pair, cannot take the VIP: anti-spoofing drops its GARP on its port and nothing changes', async () => {
    // The frames that pass c's port's bridge prerouting reach hv3's bridge device (broadcasts are delivered to it).
    const seen = capture(lab.host('hv3').ns.name, `sbr${net.vni}`, 'arp', 6);
    await seen.started;
    await vm.c!.ns.ip(['addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
    await vm.c!.ns.exec(['arping', '-U', '-c', '2', '-w', '3', '-I', 'eth0', VIP]).catch(() => '');
    await vm.c!.ns.ip(['addr', 'del', `${VIP}/32`, 'dev', 'eth0']);
    // The control: an ARP c may send (for a's address, from its own) does pass.
    await vm.c!.ns.exec(['arping', '-c', '1', '-w', '2', '-I', 'eth0', vm.a!.ip]).catch(() => '');
    const lines = await seen.lines;
    expect(lines.some((l) => l.includes(`who-has ${vm.a!.ip} `) && l.includes(`tell ${vm.c!.ip},`)), lines.join('\n')).toBe(true);
    expect(lines.filter((l) => l.includes(`tell ${VIP},`))).toEqual([]);
    expect(await owned(vm.c!)).toEqual([]);
    expect(await owned(vm.a!)).toEqual([VIP]);
    expect(await reachVip()).toContain(vm.a!.port.mac);
  });

  /**
   * keepalived (VRRP) in the VM namespaces, as in appliance VMs: the VRRP adverts cross the overlay
   * (multicast, flooded to the network's hosts; the default group admits them), the master's GARPs
   * make it the owner, and when the master dies the backup's GARPs move the owner.
   */
  itIf(withKeepalived)('keepalived in the two VMs: the master owns the VIP; killing it moves the VIP to the backup', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-vrrp-'));
    const daemons = new Map<string, ChildProcess>();
    const start = (v: Vm, priority: number): void => {
      const conf = join(dir, `${v.name}.conf`);
      writeFileSync(
        conf,
        `global_defs { router_id ${v.name} }\nvrrp_instance V { state BACKUP\n interface eth0\n virtual_router_id 51\n priority ${priority}\n advert_int 1\n virtual_ipaddress { ${VIP}/24 }\n}\n`,
      );
      const argv = ['netns', 'exec', v.ns.name, 'keepalived', '-n', '-l', '-G', '-P', '-f', conf, '-p', join(dir, `${v.name}.pid`), '-r', join(dir, `${v.name}.vrrp.pid`)];
      daemons.set(v.name, spawn('ip', argv, { stdio: 'ignore' }));
    };
    const stop = (name: string): void => {
      const p = daemons.get(name);
      if (p?.pid !== undefined && p.exitCode === null) process.kill(p.pid, 'SIGTERM');
    };
    try {
      await vm.a!.ns.ip(['addr', 'del', `${VIP}/24`, 'dev', 'eth0']).catch(() => '');
      start(vm.b!, 150);
      start(vm.a!, 100);
      await eventually(async () => (await owned(vm.b!)).includes(VIP), 'b (the VRRP master) to own the VIP', 120);
      await eventually(async () => (await bridgeNeighbour('hv3')).includes(vm.b!.port.mac), "hv3 to answer the VIP with b's MAC");
      expect(await reachVip()).toContain(vm.b!.port.mac);
      stop('b');
      await eventually(async () => (await owned(vm.a!)).includes(VIP), 'a (the backup) to own the VIP after the master died', 120);
      await eventually(async () => (await bridgeNeighbour('hv3')).includes(vm.a!.port.mac), "hv3 to answer the VIP with a's MAC");
      expect(await reachVip()).toContain(vm.a!.port.mac);
    } finally {
      for (const name of daemons.keys()) stop(name);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
