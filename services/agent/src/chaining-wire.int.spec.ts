/**
 * Service chaining, WIRE mode, on a real kernel with real packets: two
 * hypervisors, the source VM on hv1, the destination VM and a transparent
 * appliance on hv2, all three on one network. The appliance is a VM
 * namespace with two NICs bridged together (no addresses) and bridge-family
 * counters of what it carries, by MACs and addresses. The chain is written
 * into each host's view by hand, as hostview would. The VMs are in a
 * security group (any in and out), so the steered frames also pass the
 * stateful filter and the bridge's port marks.
 */
import { randomUUID } from 'node:crypto';
import type { ChainMember, FlowClassifier, HostChain } from '@strata/contracts';
import { portDevice } from '@strata/contracts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import type { HostViewSnapshot } from './core/snapshot.js';
import { planWire, WIRE_TABLE, type WireState } from './core/chaining-wire.js';
import { composeDesired } from './dataplane/compose.js';
import { MANAGERS } from './dataplane/managers.js';
import { chainingWire, readWire } from './dataplane/managers/chaining-wire.js';
import { hostView, sgRule, subnet, type Cloud, type CloudPort } from './testkit/cloud.js';
import { memberDeltas } from './testkit/members.js';
import { NetLab, sh, type LabHost, type LabVm } from './testkit/netlab.js';
import { startServer, tcpExchange, tcpExchangeEventually } from './testkit/traffic.js';

const d = describeIf(kernel());

const router = randomUUID();
const net = randomUUID();
const [SRC, DST] = [randomUUID(), randomUUID()];
const GROUP = randomUUID();
const port = (name: string, ip: string, host: string, mac: string, leg = false): CloudPort & { name: string } => ({
  name,
  id: randomUUID(),
  networkId: net,
  mac,
  host,
  fixedIps: [{ subnetId: 's1', ip }],
  // A leg carries other VMs' frames: no anti-spoofing, no groups.
  ...(leg ? { portSecurity: false, groupIds: [] } : { groupIds: [GROUP] }),
});
const ports = {
  src: port('src', '10.0.1.10', 'hv1', '02:00:00:00:01:10'),
  src2: port('src2', '10.0.1.11', 'hv1', '02:00:00:00:01:11'),
  dst: port('dst', '10.0.1.20', 'hv2', '02:00:00:00:01:20'),
  // The other way round: a source beside the appliance, its destination on hv1.
  near: port('near', '10.0.1.12', 'hv2', '02:00:00:00:01:12'),
  far: port('far', '10.0.1.21', 'hv1', '02:00:00:00:01:21'),
  legIn: port('legin', '10.0.1.31', 'hv2', '02:00:00:00:01:31', true),
  legOut: port('legout', '10.0.1.32', 'hv2', '02:00:00:00:01:32', true),
};
const cloud: Cloud = {
  hosts: { hv1: '198.18.0.11', hv2: '198.18.0.12' },
  networks: [{ id: net, tenant: 'A', vni: 200, domainId: router, subnets: [subnet('s1', '10.0.1.0/24', '10.0.1.1')] }],
  domains: [{ id: router, tenant: 'A', kind: 'router' }],
  ports: Object.values(ports),
  groups: [{ id: GROUP, tenant: 'A', rules: [sgRule(randomUUID(), 'ingress'), sgRule(randomUUID(), 'egress')] }],
};

/** src → dst tcp/9000 */
const classifier: FlowClassifier = {
  id: randomUUID(),
  ethertype: 'IPv4',
  protocol: 'tcp',
  source: { groupId: SRC, cidr: null },
  destination: { groupId: DST, cidr: null },
  sourcePorts: null,
  destinationPorts: { min: 9000, max: 9000 },
};
const leg = (p: CloudPort): ChainMember['ingress'] => ({ portId: p.id, networkId: p.networkId, mac: p.mac, ips: p.fixedIps.map((f) => f.ip) });
const fw: ChainMember = { functionId: 'f-wire', ingress: leg(ports.legIn), egress: leg(ports.legOut), healthy: true, healthCheck: null, virtualIp: null };
const chain: HostChain = {
  id: randomUUID(),
  tenant: 'A',
  domainId: router,
  symmetric: true,
  classifiers: [classifier],
  hops: [{ groupId: randomUUID(), mode: 'wire', selection: 'active-standby', fallback: 'fail-closed', members: [fw], activeFunctionId: fw.functionId }],
};
const members: HostViewSnapshot['members'] = {
  [`${SRC}.${ports.src.id}`]: { groupId: SRC, portId: ports.src.id, ips: ['10.0.1.10'] },
  [`${DST}.${ports.dst.id}`]: { groupId: DST, portId: ports.dst.id, ips: ['10.0.1.20'] },
  [`${SRC}.${ports.near.id}`]: { groupId: SRC, portId: ports.near.id, ips: ['10.0.1.12'] },
  [`${DST}.${ports.far.id}`]: { groupId: DST, portId: ports.far.id, ips: ['10.0.1.21'] },
};

function viewOf(host: string, withChain: boolean): HostViewSnapshot {
  const v = hostView(cloud, host);
  return { ...v, members: withChain ? { ...members } : {}, chains: withChain ? { [chain.id]: chain } : {} };
}

/**
 * What the appliance bridged, by direction, with both original MACs and
 * addresses (`other`: anything else it got from the VMs; the hypervisor-side
 * devices' own IPv6 link-local chatter, which every NIC gets, is not counted).
 */
async function applianceTable(vm: LabVm): Promise<void> {
  await sh(['ip', 'netns', 'exec', vm.ns, 'nft', 'delete', 'table', 'bridge', 'appliance']).catch(() => '');
  await sh(
    ['ip', 'netns', 'exec', vm.ns, 'nft', '-f', '-'],
    `table bridge appliance {
  chain forward { type filter hook forward priority 0; policy accept;
    iifname "eth0" oifname "eth1" ether saddr ${ports.src.mac} ether daddr ${ports.dst.mac} ip saddr 10.0.1.10 ip daddr 10.0.1.20 tcp dport 9000 counter comment "fwd"
    iifname "eth1" oifname "eth0" ether saddr ${ports.dst.mac} ether daddr ${ports.src.mac} ip saddr 10.0.1.20 ip daddr 10.0.1.10 tcp sport 9000 counter comment "rev"
    iifname "eth0" oifname "eth1" ether saddr ${ports.near.mac} ether daddr ${ports.far.mac} ip saddr 10.0.1.12 ip daddr 10.0.1.21 tcp dport 9000 counter comment "fwd2"
    iifname "eth1" oifname "eth0" ether saddr ${ports.far.mac} ether daddr ${ports.near.mac} ip saddr 10.0.1.21 ip daddr 10.0.1.12 tcp sport 9000 counter comment "rev2"
    ether saddr { ${ports.src.mac}, ${ports.src2.mac}, ${ports.dst.mac}, ${ports.near.mac}, ${ports.far.mac} } counter comment "other"
  }
}
`,
  );
}

d('service chaining, WIRE (a transparent appliance on the destination host, real packets)', () => {
  let lab: NetLab;
  const vms: Record<string, LabVm> = {};
  const hv = (name: string): LabHost => lab.hosts.find((h) => h.name === name)!;

  const apply = async (withChain: boolean): Promise<void> => {
    for (const h of lab.hosts) {
      const v = viewOf(h.name, withChain);
      await h.dataplane.reconcile(v);
      expect((await h.dataplane.plan(v)).plan).toEqual({ batches: [] });
    }
  };
  const counters = async (): Promise<Record<string, number>> => {
    const out = await sh(['ip', 'netns', 'exec', vms.fw!.ns, 'nft', 'list', 'table', 'bridge', 'appliance']);
    const n = (c: string): number => Number(/packets (\d+)/.exec(out.split('\n').find((l) => l.includes(`comment "${c}"`))!)![1]);
    return { fwd: n('fwd'), rev: n('rev'), fwd2: n('fwd2'), rev2: n('rev2'), other: n('other') };
  };
  /** What the WIRE manager wants on a host, and whether the kernel has exactly that (an empty plan). */
  const wireConverged = async (h: LabHost, withChain: boolean): Promise<boolean> => {
    const want = composeDesired(MANAGERS, viewOf(h.name, withChain), { nsPrefix: h.nsPrefix }).parts[MANAGERS.indexOf(chainingWire)]!.own as WireState;
    const plan = planWire(want, await readWire(h.exec));
    return plan.nft === '' && plan.bridge.length === 0;
  };
  const legFlags = async (): Promise<unknown[]> => {
    const flags = (await readWire(hv('hv2').exec)).ports;
    return [flags[portDevice(fw.ingress.portId)], flags[portDevice(fw.egress.portId)]];
  };

  beforeAll(async () => {
    lab = await NetLab.create(2);
    for (const p of [ports.src, ports.src2, ports.dst, ports.near, ports.far]) {
      const vm = await lab.addVm(p.name, hv(p.host), p.mac, portDevice(p.id));
      await lab.configure(vm, `${p.fixedIps[0]!.ip}/24`, '10.0.1.1');
      vms[p.name] = vm;
    }
    // The appliance: eth0 (ingress leg) and eth1 (egress leg) bridged, no addresses.
    const f = await lab.addVm('fw', hv('hv2'), ports.legIn.mac, portDevice(ports.legIn.id));
    vms.fw = f;
    await sh(['ip', '-n', f.host.ns, 'link', 'add', portDevice(ports.legOut.id), 'type', 'veth', 'peer', 'name', 'eth1', 'netns', f.ns]);
    await sh(['ip', '-n', f.ns, 'link', 'set', 'eth1', 'address', ports.legOut.mac, 'mtu', '1450', 'up']);
    await sh(['ip', '-n', f.ns, 'link', 'add', 'br0', 'type', 'bridge']);
    for (const nic of ['eth0', 'eth1']) await sh(['ip', '-n', f.ns, 'link', 'set', nic, 'master', 'br0']);
    // br0 stays down until the chain isolates the legs: two ports of one network bridged together would loop its broadcasts.
    await applianceTable(f);
    await startServer(vms.dst!.ns, [9000, 9001]);
    await startServer(vms.far!.ns, [9000]);
    await apply(false);
    expect(await tcpExchangeEventually(vms.src!.ns, '10.0.1.20', 9000)).toBe(true);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('tcp/9000 passes the appliance both ways with the VMs own MACs and addresses; other flows do not', async () => {
    await apply(true);
    // Idempotent: a second sync finds nothing to do, on both hosts.
    for (const h of lab.hosts) expect(await wireConverged(h, true)).toBe(true);
    // Its legs isolated, the appliance may bridge them.
    await sh(['ip', '-n', vms.fw!.ns, 'link', 'set', 'br0', 'up']);
    await applianceTable(vms.fw!);
    expect(await tcpExchangeEventually(vms.src!.ns, '10.0.1.20', 9000)).toBe(true);
    const c = await counters();
    expect(c.fwd).toBeGreaterThan(0);
    expect(c.rev).toBeGreaterThan(0);
    // Another port and ping: direct, the appliance gets nothing (no flood reaches its legs either).
    await applianceTable(vms.fw!);
    expect(await tcpExchangeEventually(vms.src!.ns, '10.0.1.20', 9001)).toBe(true);
    await lab.pingEventually(vms.src!, '10.0.1.20');
    expect(await counters()).toEqual({ fwd: 0, rev: 0, fwd2: 0, rev2: 0, other: 0 });
    expect(await legFlags()).toEqual([
      { learning: false, flood: false, mcastFlood: false, bcastFlood: false },
      { learning: false, flood: false, mcastFlood: false, bcastFlood: false },
    ]);
    // The source's host has no WIRE objects: the appliance is not there.
    expect((await readWire(hv('hv1').exec)).table).toBeNull();
  });

  it('a source beside the appliance: the flow is steered where it leaves for the other host (svx) and where its replies arrive', async () => {
    await applianceTable(vms.fw!);
    expect(await tcpExchangeEventually(vms.near!.ns, '10.0.1.21', 9000)).toBe(true);
    const c = await counters();
    expect(c.fwd2).toBeGreaterThan(0);
    expect(c.rev2).toBeGreaterThan(0);
    expect([c.fwd, c.rev]).toEqual([0, 0]);
  });

  it('the appliance not forwarding blocks the classified flow only', async () => {
    await sh(['ip', '-n', vms.fw!.ns, 'link', 'set', 'br0', 'down']);
    try {
      expect(await tcpExchange(vms.src!.ns, '10.0.1.20', 9000)).toBe(false);
      expect(await tcpExchangeEventually(vms.src!.ns, '10.0.1.20', 9001)).toBe(true);
    } finally {
      await sh(['ip', '-n', vms.fw!.ns, 'link', 'set', 'br0', 'up']);
    }
  });

  it('drift is repaired by the next full pass', async () => {
    const h = hv('hv2');
    await sh(['ip', 'netns', 'exec', h.ns, 'nft', 'delete', 'chain', 'netdev', WIRE_TABLE, `out_${portDevice(ports.dst.id)}`]);
    await sh(['ip', 'netns', 'exec', h.ns, 'bridge', 'link', 'set', 'dev', portDevice(ports.legIn.id), 'flood', 'on']);
    expect(await wireConverged(h, true)).toBe(false);
    await h.dataplane.reconcile(viewOf('hv2', true));
    expect(await wireConverged(h, true)).toBe(true);
    await applianceTable(vms.fw!);
    expect(await tcpExchangeEventually(vms.src!.ns, '10.0.1.20', 9000)).toBe(true);
    expect((await counters()).fwd).toBeGreaterThan(0);
  });

  it('a classifier group member change is set elements (the fast path): flows of the new member are steered', async () => {
    const h = hv('hv2');
    await applianceTable(vms.fw!);
    expect(await tcpExchangeEventually(vms.src2!.ns, '10.0.1.20', 9000)).toBe(true);
    expect(await counters()).toEqual({ fwd: 0, rev: 0, fwd2: 0, rev2: 0, other: 0 });
    const m = { groupId: SRC, portId: ports.src2.id, ips: ['10.0.1.11'] };
    members[`${SRC}.${ports.src2.id}`] = m;
    try {
      expect(await h.dataplane.applyChanges(memberDeltas([{ after: m }]))).toMatchObject({ added: 2 });
      expect(await wireConverged(h, true)).toBe(true);
      expect(await tcpExchangeEventually(vms.src2!.ns, '10.0.1.20', 9000)).toBe(true);
      expect((await counters()).other).toBeGreaterThan(0);
    } finally {
      delete members[`${SRC}.${ports.src2.id}`];
    }
    await h.dataplane.reconcile(viewOf('hv2', true));
    expect(await wireConverged(h, true)).toBe(true);
  });

  it('removing the chain removes every object: no netdev table, the legs flood and learn again', async () => {
    await sh(['ip', '-n', vms.fw!.ns, 'link', 'set', 'br0', 'down']);
    await apply(false);
    for (const h of lab.hosts) expect(await wireConverged(h, false)).toBe(true);
    expect((await readWire(hv('hv2').exec)).table).toBeNull();
    expect(await legFlags()).toEqual([
      { learning: true, flood: true, mcastFlood: true, bcastFlood: true },
      { learning: true, flood: true, mcastFlood: true, bcastFlood: true },
    ]);
    // And the flow is direct again.
    await applianceTable(vms.fw!);
    expect(await tcpExchangeEventually(vms.src!.ns, '10.0.1.20', 9000)).toBe(true);
    expect((await counters()).fwd).toBe(0);
  });
});
