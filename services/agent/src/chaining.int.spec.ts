/**
 * Service chaining (L3) on a real kernel, with real packets, without the
 * control plane: three hypervisors (web's, the appliances', app's), the
 * chain written into each host's view by hand as hostview would (the
 * `HostChain` key and the classifier groups' member keys). The appliances
 * are VM namespaces that forward (ip_forward, default route via their
 * gateway) and count and track what passes (their own nftables counters
 * and conntrack). The networks are dual-stack and web1, app1, fw1 and fw2
 * have IPv6 addresses too (fd00:<n>::<last octet>), for the IPv6 classifiers.
 */
import { randomUUID } from 'node:crypto';
import type { ChainHop, ChainMember, FlowClassifier, HealthCheck, HealthObservation, HostChain } from '@strata/contracts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import type { HostViewSnapshot } from './core/snapshot.js';
import { hostView, subnet, type Cloud, type CloudPort } from './testkit/cloud.js';
import { memberDeltas } from './testkit/members.js';
import { NetLab, sh, type LabHost, type LabVm } from './testkit/netlab.js';
import { HealthChecker } from './observe/health.js';
import { startServer, tcpExchange, tcpExchangeEventually } from './testkit/traffic.js';

const d = describeIf(kernel());

const router = randomUUID();
const [web, app, svc, svcOut] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
const [WEB, APP] = [randomUUID(), randomUUID()];
/** 10.0.<n>.<x> → fd00:<n>::<x> */
const v6Of = (ip: string): string => ip.replace(/^10\.0\.(\d+)\.(\d+)$/, 'fd00:$1::$2');
const port = (name: string, networkId: string, ip: string, host: string, appliance = false, v6 = false): CloudPort & { name: string } => ({
  name,
  id: randomUUID(),
  networkId,
  mac: `02:00:00:00:${ip.split('.').slice(2).map((x) => Number(x).toString(16).padStart(2, '0')).join(':')}`,
  host,
  fixedIps: [
    { subnetId: { [web]: 's1', [app]: 's2', [svc]: 's3', [svcOut]: 's4' }[networkId]!, ip },
    ...(v6 ? [{ subnetId: { [web]: 's1v6', [app]: 's2v6', [svc]: 's3v6', [svcOut]: 's4v6' }[networkId]!, ip: v6Of(ip) }] : []),
  ],
  // Transit traffic leaves an appliance with other VMs' addresses: no anti-spoofing, no groups on its legs.
  ...(appliance ? { portSecurity: false, groupIds: [] } : {}),
});
const ports = {
  web1: port('web1', web, '10.0.1.10', 'hv1', false, true),
  web2: port('web2', web, '10.0.1.11', 'hv1'),
  app1: port('app1', app, '10.0.2.10', 'hv3', false, true),
  fw1: port('fw1', svc, '10.0.3.11', 'hv2', true, true),
  fw2: port('fw2', svc, '10.0.3.12', 'hv2', true, true),
  // A two-armed appliance: in on svc, out on svc-out (one VM, two NICs).
  fw3: port('fw3', svc, '10.0.3.13', 'hv2', true),
  fw3out: port('fw3out', svcOut, '10.0.4.13', 'hv2', true),
};
const cloud: Cloud = {
  hosts: { hv1: '198.18.0.11', hv2: '198.18.0.12', hv3: '198.18.0.13' },
  networks: [
    { id: web, tenant: 'A', vni: 100, domainId: router, subnets: [subnet('s1', '10.0.1.0/24', '10.0.1.1'), subnet('s1v6', 'fd00:1::/64', 'fd00:1::1', false)] },
    { id: app, tenant: 'A', vni: 101, domainId: router, subnets: [subnet('s2', '10.0.2.0/24', '10.0.2.1'), subnet('s2v6', 'fd00:2::/64', 'fd00:2::1', false)] },
    { id: svc, tenant: 'A', vni: 102, domainId: router, subnets: [subnet('s3', '10.0.3.0/24', '10.0.3.1'), subnet('s3v6', 'fd00:3::/64', 'fd00:3::1', false)] },
    { id: svcOut, tenant: 'A', vni: 103, domainId: router, subnets: [subnet('s4', '10.0.4.0/24', '10.0.4.1'), subnet('s4v6', 'fd00:4::/64', 'fd00:4::1', false)] },
  ],
  domains: [{ id: router, tenant: 'A', kind: 'router' }],
  ports: Object.values(ports),
};

/** web → app tcp/9000 over IPv6 */
const classifier6 = (): FlowClassifier => ({ ...classifier, id: randomUUID(), ethertype: 'IPv6' });

/** web → app tcp/9000 */
const classifier: FlowClassifier = {
  id: randomUUID(),
  ethertype: 'IPv4',
  protocol: 'tcp',
  source: { groupId: WEB, cidr: null },
  destination: { groupId: APP, cidr: null },
  sourcePorts: null,
  destinationPorts: { min: 9000, max: 9000 },
};

const member = (p: CloudPort, healthy = true): ChainMember => {
  const leg = { portId: p.id, networkId: p.networkId, mac: p.mac, ips: p.fixedIps.map((f) => f.ip) };
  return { functionId: `f-${p.id}`, ingress: leg, egress: leg, healthy, healthCheck: null, virtualIp: null };
};
const activeStandby = (members: ChainMember[], active: ChainMember | null, fallback: ChainHop['fallback'] = 'fail-closed'): ChainHop => ({
  groupId: randomUUID(),
  mode: 'l3',
  selection: 'active-standby',
  fallback,
  members,
  activeFunctionId: active?.functionId ?? null,
});
const flowHash = (members: ChainMember[]): ChainHop => ({ groupId: randomUUID(), mode: 'l3', selection: 'flow-hash', fallback: 'fail-closed', members, activeFunctionId: null });
const chainOf = (hops: ChainHop[]): HostChain => ({ id: randomUUID(), tenant: 'A', domainId: router, symmetric: true, classifiers: [classifier], hops });

const memberKey = (groupId: string, p: CloudPort): [string, HostViewSnapshot['members'][string]] => [
  `${groupId}.${p.id}`,
  { groupId, portId: p.id, ips: p.fixedIps.map((f) => f.ip) },
];
const baseMembers = Object.fromEntries([memberKey(WEB, ports.web1), memberKey(APP, ports.app1)]);

/** A host's view with the chain (or none) and the classifier groups' members, as hostview would write them. */
function viewOf(host: string, chain: HostChain | null, members = baseMembers): HostViewSnapshot {
  const v = hostView(cloud, host);
  return { ...v, members: chain ? { ...members } : {}, chains: chain ? { [chain.id]: chain } : {} };
}

/** The appliance's own firewall: counters per direction (re)made from zero, and `drop` first when asked. */
async function applianceTable(vm: LabVm, drop = false): Promise<void> {
  await sh(['ip', 'netns', 'exec', vm.ns, 'nft', 'delete', 'table', 'inet', 'appliance']).catch(() => '');
  await sh(
    ['ip', 'netns', 'exec', vm.ns, 'nft', '-f', '-'],
    `table inet appliance {
  chain forward { type filter hook forward priority 0; policy accept;
    ct state invalid counter comment "invalid"
    iifname "eth0" oifname "eth1" counter
    iifname "eth1" oifname "eth0" counter
    icmp type echo-request counter
    icmp type echo-reply counter
    ${drop ? 'tcp dport 9000 drop' : ''}
    ip saddr 10.0.1.0/24 ip daddr 10.0.2.10 tcp dport 9000 counter comment "fwd"
    ip saddr 10.0.2.10 ip daddr 10.0.1.0/24 tcp sport 9000 counter comment "rev"
    ip saddr { 10.0.1.0/24, 10.0.2.0/24 } counter comment "other"
    ip6 saddr fd00:1::/64 ip6 daddr fd00:2::10 tcp dport 9000 counter comment "fwd6"
    ip6 saddr fd00:2::10 ip6 daddr fd00:1::/64 tcp sport 9000 counter comment "rev6"
    ip6 saddr { fd00:1::/64, fd00:2::/64 } counter comment "other6"
  }
}
`,
  );
}

d('service chaining, L3 (three hypervisors, real packets through appliance VMs)', () => {
  let lab: NetLab;
  const vms: Record<string, LabVm> = {};
  const hosts = (): LabHost[] => lab.hosts;

  const apply = async (chain: HostChain | null): Promise<void> => {
    for (const h of hosts()) {
      const v = viewOf(h.name, chain);
      await h.dataplane.reconcile(v);
      expect((await h.dataplane.plan(v)).plan).toEqual({ batches: [] });
    }
  };
  const domainNs = async (h: LabHost): Promise<string> =>
    (await sh(['ip', 'netns', 'list'])).split('\n').map((x) => x.split(' ')[0]!).find((n) => n.startsWith(h.nsPrefix))!;
  /** Packets an appliance forwarded: web → app tcp/9000, its replies, and anything else between web and app (`v` '6': over IPv6). */
  const counters = async (vm: LabVm, v: '' | '6' = ''): Promise<{ fwd: number; rev: number; other: number }> => {
    const out = await sh(['ip', 'netns', 'exec', vm.ns, 'nft', 'list', 'table', 'inet', 'appliance']);
    const n = (c: string): number => Number(new RegExp(`comment "${c}"`).test(out) ? /packets (\d+)/.exec(out.split('\n').find((l) => l.includes(`"${c}"`))!)![1] : -1);
    return { fwd: n(`fwd${v}`), rev: n(`rev${v}`), other: n(`other${v}`) };
  };
  /** The appliance's tracked web → app:9000 flows: source port → whether it saw both directions (ASSURED). IPv6 as conntrack prints it: full form. */
  const tracked = async (vm: LabVm, v: '' | '6' = ''): Promise<Map<number, boolean>> => {
    const text = await sh(['ip', 'netns', 'exec', vm.ns, 'cat', '/proc/net/nf_conntrack']);
    const flows = new Map<number, boolean>();
    const tuple = v === '' ? /src=10\.0\.1\.10 dst=10\.0\.2\.10 sport=(\d+) dport=9000 / : /src=fd00:0*1:0000:0000:0000:0000:0000:0*10 dst=fd00:0*2:0000:0000:0000:0000:0000:0*10 sport=(\d+) dport=9000 /;
    for (const l of text.split('\n')) {
      const m = tuple.exec(l);
      if (m) flows.set(Number(m[1]), l.includes('[ASSURED]'));
    }
    return flows;
  };

  /** `flows` new web1 → app1:9000 connections through a flow-hash hop of fw1 and fw2: each seen by exactly one member, both ways (ASSURED), some on each. */
  const flowsSpread = async (dst: string, v: '' | '6', flows: number): Promise<void> => {
    const before = await Promise.all([tracked(vms.fw1!, v), tracked(vms.fw2!, v)]);
    for (let i = 0; i < flows; i++) expect(await tcpExchangeEventually(vms.web1!.ns, dst, 9000)).toBe(true);
    const [a, b] = (await Promise.all([tracked(vms.fw1!, v), tracked(vms.fw2!, v)])).map((m, i) => new Map([...m].filter(([sport]) => !before[i]!.has(sport))));
    expect(a!.size).toBeGreaterThan(0);
    expect(b!.size).toBeGreaterThan(0);
    expect(a!.size + b!.size).toBe(flows);
    for (const sport of a!.keys()) expect(b!.has(sport)).toBe(false);
    // ASSURED: the member saw the replies of every flow it carried.
    expect([...a!.values(), ...b!.values()].every(Boolean)).toBe(true);
  };

  beforeAll(async () => {
    lab = await NetLab.create(3);
    for (const p of Object.values(ports)) {
      if (p === ports.fw3out) continue;
      const h = lab.hosts.find((x) => x.name === p.host)!;
      const vm = await lab.addVm(p.name, h, p.mac, `tap${p.id.replaceAll('-', '').slice(0, 11)}`);
      const gw = p.fixedIps[0]!.ip.replace(/\.\d+$/, '.1');
      await lab.configure(vm, `${p.fixedIps[0]!.ip}/24`, gw);
      if (p.fixedIps[1]) await lab.configure(vm, `${p.fixedIps[1].ip}/64`, v6Of(gw));
      vms[p.name] = vm;
    }
    // fw3's second NIC (eth1, on svc-out); forward traffic leaves by it, the return by eth0.
    const fw3 = vms.fw3!;
    await sh(['ip', '-n', fw3.host.ns, 'link', 'add', `tap${ports.fw3out.id.replaceAll('-', '').slice(0, 11)}`, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', fw3.ns]);
    await sh(['ip', '-n', fw3.ns, 'link', 'set', 'eth1', 'address', ports.fw3out.mac, 'mtu', '1450', 'up']);
    await sh(['ip', '-n', fw3.ns, 'addr', 'add', '10.0.4.13/24', 'dev', 'eth1']);
    await sh(['ip', '-n', fw3.ns, 'route', 'replace', 'default', 'via', '10.0.4.1', 'dev', 'eth1']);
    await sh(['ip', '-n', fw3.ns, 'route', 'add', '10.0.1.0/24', 'via', '10.0.3.1', 'dev', 'eth0']);
    await sh(['ip', 'netns', 'exec', fw3.ns, 'sysctl', '-qw', 'net.ipv4.conf.eth1.send_redirects=0']);
    for (const name of ['fw1', 'fw2', 'fw3']) {
      await sh(['ip', 'netns', 'exec', vms[name]!.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0', 'net.ipv6.conf.all.forwarding=1']);
      await applianceTable(vms[name]!);
    }
    await startServer(vms.app1!.ns, [9000, 9001]);
    await apply(null);
    // The direct path works before any chain.
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9000)).toBe(true);
    expect(await tcpExchangeEventually(vms.web1!.ns, 'fd00:2::10', 9000)).toBe(true);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('one hop: tcp/9000 passes the appliance both ways, other flows do not; the appliance dropping it blocks it', async () => {
    const fw1 = member(ports.fw1);
    await apply(chainOf([activeStandby([fw1, member(ports.fw2)], fw1)]));
    const before = await counters(vms.fw1!);
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9000)).toBe(true);
    const after = await counters(vms.fw1!);
    expect(after.fwd).toBeGreaterThan(before.fwd);
    expect(after.rev).toBeGreaterThan(before.rev);
    // Another port: direct (the appliance counts nothing more than the 9000 flow brought).
    const mid = await counters(vms.fw1!);
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9001)).toBe(true);
    expect((await counters(vms.fw1!)).other).toBe(mid.other);
    expect(await counters(vms.fw2!)).toEqual({ fwd: 0, rev: 0, other: 0 });

    await applianceTable(vms.fw1!, true);
    expect(await tcpExchange(vms.web1!.ns, '10.0.2.10', 9000)).toBe(false);
    await applianceTable(vms.fw1!);
  });

  it('a two-armed appliance: forward traffic enters by its ingress leg and leaves by its egress leg, the return the other way', async () => {
    const m: ChainMember = { ...member(ports.fw3), egress: member(ports.fw3out).egress };
    await applianceTable(vms.fw3!);
    await apply(chainOf([activeStandby([m], m)]));
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9000)).toBe(true);
    const out = await sh(['ip', 'netns', 'exec', vms.fw3!.ns, 'nft', 'list', 'table', 'inet', 'appliance']);
    expect(Number(/iifname "eth0" oifname "eth1" .*packets (\d+)/.exec(out)![1])).toBeGreaterThan(0);
    expect(Number(/iifname "eth1" oifname "eth0" .*packets (\d+)/.exec(out)![1])).toBeGreaterThan(0);
    expect((await counters(vms.fw3!)).fwd).toBeGreaterThan(0);
  });

  it('an ICMP classifier (addresses only): ping passes the appliance both ways', async () => {
    const fw1 = member(ports.fw1);
    await applianceTable(vms.fw1!);
    await apply({ ...chainOf([activeStandby([fw1], fw1)]), classifiers: [{ ...classifier, protocol: 'icmp', destinationPorts: null }] });
    await lab.pingEventually(vms.web1!, '10.0.2.10');
    const out = await sh(['ip', 'netns', 'exec', vms.fw1!.ns, 'nft', 'list', 'table', 'inet', 'appliance']);
    expect(Number(/icmp type echo-request .*packets (\d+)/.exec(out)![1])).toBeGreaterThan(0);
    expect(Number(/icmp type echo-reply .*packets (\d+)/.exec(out)![1])).toBeGreaterThan(0);
    // tcp/9000 is not this classifier's: direct.
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9000)).toBe(true);
    expect((await counters(vms.fw1!)).fwd).toBe(0);
  });

  it('two hops: the flow passes both appliances in both directions', async () => {
    const [fw1, fw2] = [member(ports.fw1), member(ports.fw2)];
    await applianceTable(vms.fw1!);
    await applianceTable(vms.fw2!);
    await apply(chainOf([activeStandby([fw1], fw1), activeStandby([fw2], fw2)]));
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9000)).toBe(true);
    for (const vm of [vms.fw1!, vms.fw2!]) {
      const c = await counters(vm);
      expect(c.fwd).toBeGreaterThan(0);
      expect(c.rev).toBeGreaterThan(0);
    }
  });

  it('flow-hash over two members: each flow is seen by exactly one member in both directions, and flows spread over both', async () => {
    await apply(chainOf([flowHash([member(ports.fw1), member(ports.fw2)])]));
    await flowsSpread('10.0.2.10', '', 40);
  });

  it('no usable member: fail-closed drops the classified flows, fail-open lets them bypass the hop', async () => {
    const fw1 = member(ports.fw1);
    await apply(chainOf([activeStandby([fw1], null, 'fail-closed')]));
    expect(await tcpExchange(vms.web1!.ns, '10.0.2.10', 9000)).toBe(false);
    // Other flows are not the chain's.
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9001)).toBe(true);
    await apply(chainOf([activeStandby([fw1], null, 'fail-open')]));
    await applianceTable(vms.fw1!);
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9000)).toBe(true);
    expect(await counters(vms.fw1!)).toEqual({ fwd: 0, rev: 0, other: 0 });
  });

  it('a membership change of a classifier group changes set elements only: rules byte-identical, the fast path matches the full pass', async () => {
    const fw1 = member(ports.fw1);
    const chain = chainOf([activeStandby([fw1], fw1)]);
    await apply(chain);
    const h1 = lab.host(1);
    const ns = await domainNs(h1);
    const rulesOf = async (): Promise<string> => sh(['ip', 'netns', 'exec', ns, 'nft', '-a', 'list', 'chain', 'inet', 'strata', 'pre']);
    const rulesBefore = await rulesOf();
    // web2 joins WEB: a full plan would add one element; the fast path does it.
    const prev = viewOf('hv1', chain);
    const next = viewOf('hv1', chain, { ...baseMembers, ...Object.fromEntries([memberKey(WEB, ports.web2)]) });
    const { plan } = await h1.dataplane.plan(next);
    expect(plan.batches.map((b) => b.phase)).toEqual(['ns-nft']);
    expect(plan.batches[0]!.ops).toEqual([{ op: 'nft', ns, commands: [{ cmd: 'add-element', family: 'inet', set: expect.stringMatching(/^g_/), elements: ['10.0.1.11'] }] }]);
    await h1.dataplane.reconcile(prev);
    const fast = await h1.dataplane.applyChanges(memberDeltas([{ after: next.members[`${WEB}.${ports.web2.id}`]! }]));
    expect(fast).toMatchObject({ added: 1, deleted: 0 });
    expect((await h1.dataplane.plan(next)).plan).toEqual({ batches: [] });
    expect(await rulesOf()).toBe(rulesBefore);
    // web2's flows are steered now.
    await applianceTable(vms.fw1!);
    expect(await tcpExchangeEventually(vms.web2!.ns, '10.0.2.10', 9000)).toBe(true);
    expect((await counters(vms.fw1!)).fwd).toBeGreaterThan(0);
  });

  it('an active-member swap (a chain key change) is the fast path: one transaction per host rewrites the steering chain, the kernel is what a full pass makes, and the flows move to the new member', async () => {
    const [fw1, fw2] = [member(ports.fw1), member(ports.fw2)];
    const hop1 = activeStandby([fw1, fw2], fw1);
    const before = chainOf([hop1]);
    const after: HostChain = { ...before, hops: [{ ...hop1, activeFunctionId: fw2.functionId }] };
    await apply(before);
    await applianceTable(vms.fw1!);
    await applianceTable(vms.fw2!);
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9000)).toBe(true);
    expect((await counters(vms.fw1!)).fwd).toBeGreaterThan(0);
    expect(await counters(vms.fw2!)).toEqual({ fwd: 0, rev: 0, other: 0 });

    for (const h of hosts()) {
      const ns = await domainNs(h);
      const routing = async (): Promise<string> => `${await sh(['ip', '-n', ns, 'rule', 'show'])}${await sh(['ip', '-n', ns, 'route', 'show', 'table', 'all'])}`;
      const next = viewOf(h.name, after);
      // Both members' marks are routed already: a full pass would change the steering chain's rules only.
      const { plan } = await h.dataplane.plan(next);
      const ops = plan.batches.flatMap((b) => b.ops);
      expect(ops.map((o) => o.op)).toEqual(['nft']);
      const commands = ops[0]!.op === 'nft' ? ops[0]!.commands : [];
      expect(commands[0]).toEqual({ cmd: 'flush-chain', family: 'inet', name: 'pre' });
      expect(commands.slice(1).every((c) => c.cmd === 'add-rule' && c.chain === 'pre')).toBe(true);
      const routingBefore = await routing();
      await h.dataplane.reconcile(viewOf(h.name, before));
      const fast = await h.dataplane.applyChanges([{ field: 'chains', id: before.id, before, after }]);
      expect(fast).not.toBeNull();
      expect(fast!.added).toBeGreaterThan(0);
      // The record is what the full computation has, and so is the kernel.
      expect(fast!.desired).toEqual(h.dataplane.desired(next));
      expect((await h.dataplane.plan(next)).plan).toEqual({ batches: [] });
      expect(await routing()).toBe(routingBefore);
    }
    await applianceTable(vms.fw1!);
    await applianceTable(vms.fw2!);
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9000)).toBe(true);
    const c2 = await counters(vms.fw2!);
    expect(c2.fwd).toBeGreaterThan(0);
    expect(c2.rev).toBeGreaterThan(0);
    expect(await counters(vms.fw1!)).toEqual({ fwd: 0, rev: 0, other: 0 });

    // A new member brings new marks and routing tables: the fast path declines (and the full pass does it).
    const h1 = lab.host(1);
    const grown: HostChain = { ...after, hops: [{ ...after.hops[0]!, members: [fw1, fw2, member(ports.fw3)] }] };
    expect(await h1.dataplane.applyChanges([{ field: 'chains', id: before.id, before: after, after: grown }])).toBeNull();
    await h1.dataplane.reconcile(viewOf('hv1', grown));
    expect((await h1.dataplane.plan(viewOf('hv1', grown))).plan).toEqual({ batches: [] });
  });

  it('repairs drift: a deleted steering rule, route and table come back, and the flow is steered again', async () => {
    const fw1 = member(ports.fw1);
    const chain = chainOf([activeStandby([fw1], fw1)]);
    await apply(chain);
    const h1 = lab.host(1);
    const ns = await domainNs(h1);
    const rule = (await sh(['ip', '-n', ns, 'rule', 'show'])).split('\n').find((l) => l.includes('fwmark'))!;
    const [, pref, mark, table] = /^(\d+):.*fwmark (\S+) lookup (\S+)/.exec(rule)!;
    await sh(['ip', '-n', ns, 'rule', 'del', 'pref', pref!, 'fwmark', mark!, 'lookup', table!]);
    await sh(['ip', '-n', ns, 'route', 'flush', 'table', table!]);
    await sh(['ip', 'netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'strata']);
    const v = viewOf('hv1', chain);
    expect((await h1.dataplane.plan(v)).plan.batches.map((b) => b.phase)).toEqual(['routes', 'rules', 'ns-nft']);
    await h1.dataplane.reconcile(v);
    expect((await h1.dataplane.plan(v)).plan).toEqual({ batches: [] });
    await applianceTable(vms.fw1!);
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9000)).toBe(true);
    expect((await counters(vms.fw1!)).fwd).toBeGreaterThan(0);
  });

  it('health checks: the appliance\'s host probes it from the router namespace and reports transitions (ICMP and TCP)', async () => {
    const icmp: HealthCheck = { protocol: 'icmp', port: null, intervalMs: 100, timeoutMs: 300, rise: 2, fall: 2 };
    const fw1 = { ...member(ports.fw1), healthCheck: icmp };
    const fw2 = { ...member(ports.fw2), healthCheck: { ...icmp, protocol: 'tcp' as const, port: 8080 } };
    const chain = chainOf([activeStandby([fw1, fw2], fw1)]);
    await apply(chain);
    const seen: HealthObservation[] = [];
    const hv2 = lab.host(2);
    const checker = new HealthChecker({ hostId: 'hv2', exec: hv2.exec, nsPrefix: hv2.nsPrefix, publish: (subject, o) => (expect(subject).toBe('strata.status.hv2.health'), seen.push(o)) });
    const until = async (what: (o: HealthObservation) => boolean): Promise<HealthObservation> => {
      for (let i = 0; i < 100; i++) {
        const o = seen.find(what);
        if (o) return o;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no such health report; seen ${JSON.stringify(seen)}`);
    };
    try {
      // Only the appliances' host checks them.
      const other = new HealthChecker({ hostId: 'hv1', exec: lab.host(1).exec, nsPrefix: lab.host(1).nsPrefix, publish: () => undefined });
      other.update(viewOf('hv1', chain));
      expect(other.checking()).toEqual([]);
      checker.update(viewOf('hv2', chain));
      expect(checker.checking()).toEqual([fw1.functionId, fw2.functionId].sort());
      // The first probe reports the state (healthy, as the view says); nothing listens on 8080 yet: fw2 falls.
      await until((o) => o.functionId === fw1.functionId && o.healthy);
      expect((await until((o) => o.functionId === fw2.functionId && !o.healthy)).detail).toMatch(/^TCP connect to 10\.0\.3\.12:8080 failed 2 times/);
      const server = await startServer(vms.fw2!.ns, [8080]);
      await until((o) => o.functionId === fw2.functionId && o.healthy);
      await server.stop();
      await sh(['ip', 'netns', 'exec', vms.fw1!.ns, 'nft', 'add', 'table', 'inet', 'mute']);
      await sh(['ip', 'netns', 'exec', vms.fw1!.ns, 'nft', 'add', 'chain', 'inet', 'mute', 'in', '{ type filter hook input priority 0; policy accept; icmp type echo-request drop; }']);
      const down = await until((o) => o.functionId === fw1.functionId && !o.healthy);
      expect(down.detail).toMatch(/^ICMP echo to 10\.0\.3\.11 failed 2 times in a row/);
      await sh(['ip', 'netns', 'exec', vms.fw1!.ns, 'nft', 'delete', 'table', 'inet', 'mute']);
      seen.length = 0;
      await until((o) => o.functionId === fw1.functionId && o.healthy);
    } finally {
      checker.stop();
    }
  });

  it('IPv6: tcp/9000 over IPv6 passes the appliance both ways by `ip -6` rules to its IPv6 leg; IPv4 and other IPv6 flows do not', async () => {
    const fw1 = member(ports.fw1);
    await applianceTable(vms.fw1!);
    await apply({ ...chainOf([activeStandby([fw1], fw1)]), classifiers: [classifier6()] });
    const ns = await domainNs(lab.host(1));
    expect(await sh(['ip', '-6', '-n', ns, 'rule', 'show'])).toMatch(/fwmark 0x5343[0-9a-f]{4} lookup \d+ proto 83/);
    expect(await sh(['ip', '-n', ns, 'rule', 'show'])).not.toContain('fwmark');
    expect(await sh(['ip', '-6', '-n', ns, 'route', 'show', 'table', 'all', 'proto', '83'])).toMatch(/default via fd00:3::11 dev qr102 table \d+ .*onlink/);
    expect(await tcpExchangeEventually(vms.web1!.ns, 'fd00:2::10', 9000)).toBe(true);
    const c = await counters(vms.fw1!, '6');
    expect(c.fwd).toBeGreaterThan(0);
    expect(c.rev).toBeGreaterThan(0);
    // tcp/9000 over IPv4 and tcp/9001 over IPv6 are not this classifier's.
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9000)).toBe(true);
    expect(await tcpExchangeEventually(vms.web1!.ns, 'fd00:2::10', 9001)).toBe(true);
    expect((await counters(vms.fw1!)).fwd).toBe(0);
    expect((await counters(vms.fw1!, '6')).other).toBe(c.other);
    // The appliance dropping the flow blocks it.
    await applianceTable(vms.fw1!, true);
    expect(await tcpExchange(vms.web1!.ns, 'fd00:2::10', 9000)).toBe(false);
    await applianceTable(vms.fw1!);
  });

  it('IPv6 flow-hash over two members: each flow is seen by exactly one member in both directions, and flows spread over both', async () => {
    await apply({ ...chainOf([flowHash([member(ports.fw1), member(ports.fw2)])]), classifiers: [classifier6()] });
    await flowsSpread('fd00:2::10', '6', 24);
  });

  it('IPv6 fail-closed drops the classified flows but never neighbour discovery; a member without an IPv6 leg address is unusable for it', async () => {
    // Every IPv6 packet from web: its neighbour solicitations (from its global address) match too.
    const anyFromWeb: FlowClassifier = { ...classifier6(), protocol: 'any', destination: { groupId: null, cidr: null }, destinationPorts: null };
    const fw1v4only: ChainMember = { ...member(ports.fw1), ingress: { ...member(ports.fw1).ingress, ips: [ports.fw1.fixedIps[0]!.ip] } };
    await apply({ ...chainOf([activeStandby([fw1v4only], fw1v4only, 'fail-closed')]), classifiers: [anyFromWeb] });
    const h1ns = await domainNs(lab.host(1));
    const solicits = async (): Promise<number> => Number(/Icmp6InNeighborSolicits\s+(\d+)/.exec(await sh(['ip', 'netns', 'exec', h1ns, 'cat', '/proc/net/snmp6']))![1]);
    const before = await solicits();
    await sh(['ip', '-n', vms.web1!.ns, '-6', 'neigh', 'flush', 'dev', 'eth0']);
    // The echo request is dropped (fail-closed), the solicitation for the gateway before it reaches the router.
    expect(await lab.ping(vms.web1!, 'fd00:2::10')).toBeNull();
    expect(await solicits()).toBeGreaterThan(before);
    expect(await tcpExchange(vms.web1!.ns, 'fd00:2::10', 9000)).toBe(false);
    // IPv4 is not this classifier's.
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9000)).toBe(true);
    // Without the chain, IPv6 passes again.
    await apply(null);
    expect(await tcpExchangeEventually(vms.web1!.ns, 'fd00:2::10', 9000)).toBe(true);
  });

  it('removing the chain restores the direct path and leaves no steering object', async () => {
    await apply(null);
    for (const h of hosts()) {
      const ns = await domainNs(h);
      expect(await sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'tables'])).not.toContain('inet strata');
      expect(await sh(['ip', '-n', ns, 'rule', 'show'])).not.toContain('fwmark');
      expect(await sh(['ip', '-6', '-n', ns, 'rule', 'show'])).not.toContain('fwmark');
      expect(await sh(['ip', '-n', ns, 'route', 'show', 'table', 'all', 'proto', '83'])).not.toContain('table');
      expect(await sh(['ip', '-6', '-n', ns, 'route', 'show', 'table', 'all', 'proto', '83'])).not.toContain('table');
    }
    expect(await tcpExchangeEventually(vms.web1!.ns, '10.0.2.10', 9000)).toBe(true);
  });
});
