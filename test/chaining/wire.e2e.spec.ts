/**
 * A transparent (WIRE) appliance end to end: the chaining service, hostview
 * and the agents, with real packets. web (hv1) and app (hv2) are on the same
 * subnet; the appliance on hv2 is a VM with two NICs (two ports of that
 * network, port security off, no group) bridged together inside it, without
 * addresses. tcp/9000 from group web is steered through it on hv2 (the
 * appliance's host: see "WIRE mode" in docs/architecture.md); the appliance
 * counts the frames it bridges by the VMs' own MACs and addresses.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { portDevice, type ChainView, type SecurityGroupView } from '@strata/contracts';
import { eventually, Lab, sh, type ManagedProcess, type Vm } from '@strata/lab';
import { describeIf, kernel } from '@strata/testing/suites';
import { vmOn, type TenantSetup } from '../overlay/scenario.js';
import { connects, listen } from '../secgroup/tcp.js';
import { chainingTenant, joinGroup } from './scenario.js';

const d = describeIf(kernel());
const PORT = 9000;
const OTHER = 9001;

d('WIRE mode: a transparent appliance on a same-subnet path sees the frames as they are', () => {
  let lab: Lab;
  let t: TenantSetup;
  let web: SecurityGroupView;
  const vm: Record<string, Vm> = {};
  const servers: ManagedProcess[] = [];
  let wire: Vm;
  let legOut: { id: string; mac: string };

  /** Frames the appliance bridged for web ↔ app tcp/9000, by direction, matched on the VMs' own MACs and addresses. */
  const counted = async (): Promise<{ toApp: number; toWeb: number }> => {
    const out = JSON.parse(await sh(['ip', 'netns', 'exec', wire.ns.name, 'nft', '-j', 'list', 'counters', 'table', 'bridge', 'wire'])) as {
      nftables: { counter?: { name: string; packets: number } }[];
    };
    const c = Object.fromEntries(out.nftables.flatMap((o) => (o.counter ? [[o.counter.name, o.counter.packets]] : [])));
    return { toApp: c['to_app'] ?? 0, toWeb: c['to_web'] ?? 0 };
  };

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 2, chaining: true });
    ({ t, web } = await chainingTenant(lab));
    vm.web = await vmOn(lab, t, 'web', 0, 'hv1');
    vm.app = await vmOn(lab, t, 'app', 0, 'hv2');
    await joinGroup(lab, t, vm.web, web.id);
    servers.push(await listen(vm.app, [PORT, OTHER]));

    // The appliance: its first NIC is a VM's eth0, the second a port of its own plugged as eth1 into the same VM.
    const legIn = await lab.ipam.command('port.create', { networkId: t.nets[0]!.id, name: 'wire-in', hostId: 'hv2' }, t.who);
    wire = await lab.addVm('wire', legIn, 'hv2');
    legOut = await lab.ipam.command('port.create', { networkId: t.nets[0]!.id, name: 'wire-out', hostId: 'hv2' }, t.who);
    const hv2 = lab.host('hv2').ns.name;
    await sh(['ip', '-n', hv2, 'link', 'add', portDevice(legOut.id), 'type', 'veth', 'peer', 'name', 'eth1', 'netns', wire.ns.name]);
    for (const p of [legIn, legOut]) {
      await lab.secgroup.command('port.setGroups', { portId: p.id, groupIds: [] }, t.who);
      await lab.secgroup.command('port.setSecurity', { portId: p.id, enabled: false }, t.who);
    }
    const w = (args: string[]) => wire.ns.ip(args);
    await w(['link', 'set', 'eth1', 'address', legOut.mac]);
    // Bridged only once the chain has isolated its legs (below): two bridged ports of one network are a loop.
    await w(['link', 'add', 'br0', 'type', 'bridge']);
    for (const nic of ['eth0', 'eth1']) await w(['link', 'set', nic, 'master', 'br0', 'up']);
    const match = (from: Vm, to: Vm) => `ether saddr ${from.port.mac} ether daddr ${to.port.mac} ip saddr ${from.ip} ip daddr ${to.ip}`;
    const table = `table bridge wire {
  counter to_app {}
  counter to_web {}
  chain forward {
    type filter hook forward priority 0; policy accept;
    ${match(vm.web, vm.app)} tcp dport ${PORT} counter name to_app
    ${match(vm.app, vm.web)} tcp sport ${PORT} counter name to_web
  }
}
`;
    await sh(['ip', 'netns', 'exec', wire.ns.name, 'nft', '-f', '-'], { input: table });
    await eventually(() => connects(vm.web!, vm.app!.ip, PORT), 'web -> app direct');
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop(2_000)));
    await lab?.destroy();
  });

  it('tcp/9000 passes the appliance both ways with the original MACs and addresses; tcp/9001 does not; unchaining restores the direct path', async () => {
    const chaining = lab.chaining!;
    const fn = await chaining.command('function.create', { name: 'wire', ingressPortId: wire.port.id, egressPortId: legOut.id, mode: 'wire' }, t.who);
    const group = await chaining.command('group.create', { name: 'wire', functionIds: [fn.id] }, t.who);
    const classifier = await chaining.command(
      'classifier.create',
      { name: 'web-to-app', protocol: 'tcp', source: { groupId: web.id }, destinationPorts: { min: PORT, max: PORT } },
      t.who,
    );
    const chain: ChainView = await chaining.command('chain.create', { name: 'wire', routerId: t.routerId, groupIds: [group.id], classifierIds: [classifier.id] }, t.who);
    // hv2's agent isolates the legs (no learning, no flooding): only then may the appliance bridge them.
    const isolated = async (portId: string) => /flood off/.test(await sh(['ip', 'netns', 'exec', lab.host('hv2').ns.name, 'bridge', '-d', 'link', 'show', 'dev', portDevice(portId)]));
    await eventually(async () => (await isolated(wire.port.id)) && (await isolated(legOut.id)), "the appliance's legs isolated on hv2");
    await wire.ns.ip(['link', 'set', 'br0', 'up']);
    // While the chain is being applied a connection can open and then stall (a probe error, not a refusal): retry.
    await eventually(async () => {
      const before = await counted();
      return (await connects(vm.web!, vm.app!.ip, PORT).catch(() => false)) && (await counted()).toApp > before.toApp;
    }, 'web -> app:9000 through the transparent appliance');

    const before = await counted();
    expect(await connects(vm.web!, vm.app!.ip, PORT)).toBe(true);
    const after = await counted();
    expect(after.toApp - before.toApp).toBeGreaterThanOrEqual(3);
    expect(after.toWeb - before.toWeb).toBeGreaterThanOrEqual(2);

    // Not classified: bridged straight to app, the appliance sees nothing of it.
    const b2 = await counted();
    expect(await connects(vm.web!, vm.app!.ip, OTHER)).toBe(true);
    expect(await counted()).toEqual(b2);
    // The appliance down: the chained flow cannot pass, the other still does.
    await wire.ns.ip(['link', 'set', 'br0', 'down']);
    expect(await connects(vm.web!, vm.app!.ip, PORT)).toBe(false);
    expect(await connects(vm.web!, vm.app!.ip, OTHER)).toBe(true);
    await wire.ns.ip(['link', 'set', 'br0', 'up']);

    // Unbridged before its chain goes, as an operator would take a transparent appliance out.
    await wire.ns.ip(['link', 'set', 'br0', 'down']);
    await chaining.command('chain.delete', { id: chain.id }, t.who);
    await eventually(async () => {
      const b = await counted();
      return (await connects(vm.web!, vm.app!.ip, PORT)) && (await counted()).toApp === b.toApp;
    }, 'the direct path back');
  });
});
