/**
 * Security groups on a real kernel, in namespaces: three hypervisors, the
 * agent core reconciling each against a static host view (no NATS), real TCP
 * and UDP between VMs (Python servers and clients).
 *
 *   tenant A, router rA:  front 10.0.0.0/24 + fd00:a1::/64 (VNI 100), back 10.0.1.0/24 (VNI 101)
 *   tenant B, lone net:   netB  10.0.0.0/24 (VNI 200) — overlaps front
 *
 *   hv1: web (front .11, WEB), app (back .21, APP), app2 (back .22, no group), ax1 (front .13), bx (netB .13, BDENY)
 *   hv2: db (back .31, DB), ax2 (front .14), by (netB .14)
 *   hv3: client (front .10), mallory (front .66), probe (back .40)
 *
 *   WEB:  in tcp/443 from any (IPv4), in tcp/443 from ::/0 (IPv6), in ICMP echo from 10.0.0.0/24, out tcp/9000 to APP
 *   APP:  in tcp/9000 from WEB, in tcp/8080 from 10.0.0.0/24, out tcp/5432 to DB
 *   DB:   in tcp/5432 from APP (no egress rule: replies pass as established)
 *   BDENY: in udp/5001 from 10.0.0.14/32 only (the canary of the conntrack-zone test)
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import { memberDeltas, memberOnlyChanges } from './testkit/members.js';
import { portDevice } from '@strata/contracts';
import { outMarkChainName, portChainName, ruleCounterName, sgChainName, spoofChainName } from './core/names.js';
import { readRuleCounters } from './kernel/nft.js';
import { hostView, sgRule, subnet, type Cloud, type CloudPort } from './testkit/cloud.js';
import { NetLab, sh, shOk, type LabHost, type LabVm } from './testkit/netlab.js';
import { startServer, tcpExchange, tcpExchangeEventually, udpSend, type Server } from './testkit/traffic.js';

const d = describeIf(kernel(['nft', '--version']));

const rA = randomUUID();
const front = randomUUID();
const back = randomUUID();
const netB = randomUUID();
const WEB = randomUUID();
const APP = randomUUID();
const DB = randomUUID();
const BDENY = randomUUID();
const R = {
  web443: randomUUID(),
  web443v6: randomUUID(),
  webIcmp: randomUUID(),
  webToApp: randomUUID(),
  appFromWeb: randomUUID(),
  app8080: randomUUID(),
  appToDb: randomUUID(),
  dbFromApp: randomUUID(),
  canary: randomUUID(),
};

type Port = CloudPort & { name: string };
const port = (name: string, networkId: string, host: string, ips: [string, string][], mac: string, groupIds: string[] = []): Port => ({
  name,
  id: randomUUID(),
  networkId,
  mac,
  host,
  fixedIps: ips.map(([subnetId, ip]) => ({ subnetId, ip })),
  groupIds,
});

const PORTS: Port[] = [
  port('web', front, 'hv1', [['f4', '10.0.0.11'], ['f6', 'fd00:a1::11']], '02:aa:00:00:00:11', [WEB]),
  port('app', back, 'hv1', [['b4', '10.0.1.21']], '02:aa:00:00:01:21', [APP]),
  port('app2', back, 'hv1', [['b4', '10.0.1.22']], '02:aa:00:00:01:22'),
  port('ax1', front, 'hv1', [['f4', '10.0.0.13']], '02:aa:00:00:00:13'),
  port('bx', netB, 'hv1', [['sB', '10.0.0.13']], '02:bb:00:00:00:13', [BDENY]),
  port('db', back, 'hv2', [['b4', '10.0.1.31']], '02:aa:00:00:01:31', [DB]),
  port('ax2', front, 'hv2', [['f4', '10.0.0.14']], '02:aa:00:00:00:14'),
  port('by', netB, 'hv2', [['sB', '10.0.0.14']], '02:bb:00:00:00:14'),
  port('client', front, 'hv3', [['f4', '10.0.0.10'], ['f6', 'fd00:a1::10']], '02:aa:00:00:00:10'),
  port('mallory', front, 'hv3', [['f4', '10.0.0.66']], '02:aa:00:00:00:66'),
  port('probe', back, 'hv3', [['b4', '10.0.1.40']], '02:aa:00:00:01:40'),
];
const P = Object.fromEntries(PORTS.map((p) => [p.name, p])) as Record<string, Port>;

const cloud: Cloud = {
  hosts: { hv1: '198.18.0.11', hv2: '198.18.0.12', hv3: '198.18.0.13' },
  networks: [
    { id: front, tenant: 'A', vni: 100, domainId: rA, subnets: [subnet('f4', '10.0.0.0/24', '10.0.0.1'), subnet('f6', 'fd00:a1::/64', 'fd00:a1::1', false)] },
    { id: back, tenant: 'A', vni: 101, domainId: rA, subnets: [subnet('b4', '10.0.1.0/24', '10.0.1.1')] },
    { id: netB, tenant: 'B', vni: 200, domainId: netB, subnets: [subnet('sB', '10.0.0.0/24', '10.0.0.1')] },
  ],
  domains: [
    { id: rA, tenant: 'A', kind: 'router' },
    { id: netB, tenant: 'B', kind: 'network' },
  ],
  ports: PORTS.map(({ name: _n, ...p }) => p),
  groups: [
    {
      id: WEB,
      tenant: 'A',
      rules: [
        sgRule(R.web443, 'ingress', { protocol: 'tcp', portMin: 443, portMax: 443 }),
        sgRule(R.web443v6, 'ingress', { ethertype: 'IPv6', protocol: 'tcp', portMin: 443, portMax: 443, remoteCidr: '::/0' }),
        sgRule(R.webIcmp, 'ingress', { protocol: 'icmp', icmpType: 8, remoteCidr: '10.0.0.0/24' }),
        sgRule(R.webToApp, 'egress', { protocol: 'tcp', portMin: 9000, portMax: 9000, remoteGroupId: APP }),
      ],
    },
    {
      id: APP,
      tenant: 'A',
      rules: [
        sgRule(R.appFromWeb, 'ingress', { protocol: 'tcp', portMin: 9000, portMax: 9000, remoteGroupId: WEB }),
        sgRule(R.app8080, 'ingress', { protocol: 'tcp', portMin: 8080, portMax: 8080, remoteCidr: '10.0.0.0/24' }),
        sgRule(R.appToDb, 'egress', { protocol: 'tcp', portMin: 5432, portMax: 5432, remoteGroupId: DB }),
      ],
    },
    { id: DB, tenant: 'A', rules: [sgRule(R.dbFromApp, 'ingress', { protocol: 'tcp', portMin: 5432, portMax: 5432, remoteGroupId: APP })] },
    { id: BDENY, tenant: 'B', rules: [sgRule(R.canary, 'ingress', { protocol: 'udp', portMin: 5001, portMax: 5001, remoteCidr: '10.0.0.14/32' })] },
  ],
};

const TCP_PORTS = [443, 5432, 7000, 8080, 9000];

let lab: NetLab;
const vm: Record<string, LabVm> = {};
const servers: Record<string, Server> = {};
const hv = (n: number): LabHost => lab.host(n);
const hostOf = (name: string): LabHost => hv(Number(P[name]!.host.slice(2)));

async function reconcileAll(c: Cloud = cloud): Promise<void> {
  for (const h of lab.hosts) await h.dataplane.reconcile(hostView(c, h.name));
}

async function expectConverged(c: Cloud = cloud): Promise<void> {
  for (const h of lab.hosts) {
    const { plan } = await h.dataplane.plan(hostView(c, h.name));
    expect(plan, `${h.name} has left-over work`).toEqual({ batches: [] });
  }
}

const ip4 = (name: string): string => P[name]!.fixedIps[0]!.ip;
const can = (from: string, to: string, port: number, opts: { v6?: boolean; source?: string } = {}): Promise<boolean> => {
  const target = opts.v6 ? P[to]!.fixedIps.find((f) => f.ip.includes(':'))!.ip : ip4(to);
  return tcpExchange(vm[from]!.ns, target, port, opts.source ? { source: opts.source } : {});
};
const canEventually = (from: string, to: string, port: number, opts: { v6?: boolean; source?: string } = {}): Promise<boolean> => {
  const target = opts.v6 ? P[to]!.fixedIps.find((f) => f.ip.includes(':'))!.ip : ip4(to);
  return tcpExchangeEventually(vm[from]!.ns, target, port, opts.source ? { source: opts.source } : {});
};

/** `nft -a list chain …` (handles included) of every Strata chain on a host, by family/name. */
async function chainListings(h: LabHost): Promise<Record<string, string>> {
  const doc = JSON.parse(await sh(['ip', 'netns', 'exec', h.ns, 'nft', '-j', 'list', 'chains'])) as { nftables: { chain?: { family: string; table: string; name: string } }[] };
  const out: Record<string, string> = {};
  for (const i of doc.nftables) {
    if (!i.chain || i.chain.table !== 'strata') continue;
    out[`${i.chain.family}/${i.chain.name}`] = await sh(['ip', 'netns', 'exec', h.ns, 'nft', '-a', 'list', 'chain', i.chain.family, 'strata', i.chain.name]);
  }
  return out;
}

async function counters(h: LabHost): Promise<Record<string, number>> {
  return Object.fromEntries((await readRuleCounters(h.exec)).map((c) => [c.name, c.packets]));
}

function setGroups(c: Cloud, name: string, groups: string[]): void {
  c.ports.find((p) => p.id === P[name]!.id)!.groupIds = groups;
}

d('security groups (real kernel, namespaces)', () => {
  beforeAll(async () => {
    lab = await NetLab.create(3);
    for (const p of PORTS) vm[p.name] = await lab.addVm(p.name, hostOf(p.name), p.mac, portDevice(p.id));
    const gw: Record<string, [string, string]> = { [front]: ['10.0.0.1', 'fd00:a1::1'], [back]: ['10.0.1.1', ''], [netB]: ['10.0.0.1', ''] };
    for (const p of PORTS) {
      const [gw4, gw6] = gw[p.networkId]!;
      for (const f of p.fixedIps) {
        const v6 = f.ip.includes(':');
        await lab.configure(vm[p.name]!, `${f.ip}/${v6 ? 64 : 24}`, v6 ? gw6 || undefined : gw4);
      }
    }
    await reconcileAll();
    for (const p of PORTS) servers[p.name] = await startServer(vm[p.name]!.ns, TCP_PORTS, p.name === 'bx' || p.name === 'ax2' ? [5000, 5001, 6000] : []);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('converges: a second reconcile plans nothing, and the rule count does not depend on group sizes', async () => {
    await expectConverged();
    // hv1 has WEB, APP and BDENY: 4 + 3 + 1 rules with a named counter each, never one per member.
    const rules = [R.web443, R.web443v6, R.webIcmp, R.webToApp, R.appFromWeb, R.app8080, R.appToDb, R.canary];
    expect(Object.keys(await counters(hv(1))).sort()).toEqual(rules.map(ruleCounterName).sort());
    const ruleCount = async (): Promise<number> =>
      (await sh(['ip', 'netns', 'exec', hv(1).ns, 'nft', 'list', 'table', 'inet', 'strata'])).split('\n').filter((l) => /comment "[0-9a-f]{16}"$/.test(l)).length;
    const rulesBefore = await ruleCount();
    // 200 more members of WEB and APP elsewhere in the cloud: more set elements on hv1, not one more rule.
    const big = structuredClone(cloud);
    for (let i = 0; i < 200; i++) {
      big.ports.push({ id: randomUUID(), networkId: back, mac: `02:cc:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, host: 'hv3', fixedIps: [{ subnetId: 'b4', ip: `10.0.1.${(i % 200) + 50}` }], groupIds: [i % 2 ? WEB : APP] });
    }
    await hv(1).dataplane.reconcile(hostView(big, 'hv1'));
    expect(await ruleCount()).toBe(rulesBefore);
    await hv(1).dataplane.reconcile(hostView(cloud, 'hv1'));
    await expectConverged();
  });

  it('allows the three tiers: any → web tcp/443, web → app tcp/9000, app → db tcp/5432, with the replies', async () => {
    expect(await canEventually('client', 'web', 443)).toBe(true);
    expect(await canEventually('web', 'app', 9000)).toBe(true);
    expect(await canEventually('app', 'db', 5432)).toBe(true);
  });

  it('denies everything else, including unsolicited reverse flows', async () => {
    expect(await can('client', 'app', 9000)).toBe(false); // APP admits 9000 from WEB only
    expect(await can('client', 'db', 5432)).toBe(false);
    expect(await can('web', 'db', 5432)).toBe(false); // WEB may send to APP only; DB admits APP only
    expect(await can('client', 'web', 9000)).toBe(false); // WEB admits 443 only
    expect(await can('db', 'app', 9000)).toBe(false); // reverse of app → db: DB has no egress rule
    expect(await can('app', 'web', 443)).toBe(false); // reverse of web → app: APP may send to DB only
    expect(await can('probe', 'app', 9000)).toBe(false);
  });

  it('checks a routed flow on one host against the sender\'s egress and the receiver\'s ingress; replies pass as established', async () => {
    // web (front) → app (back), both on hv1: VM → sgw100 → router namespace → sgw101 → VM.
    const before = await counters(hv(1));
    expect(await canEventually('web', 'app', 9000)).toBe(true);
    const after = await counters(hv(1));
    const egress = ruleCounterName(R.webToApp);
    const ingress = ruleCounterName(R.appFromWeb);
    expect(after[egress]! - before[egress]!).toBeGreaterThan(0);
    expect(after[ingress]! - before[ingress]!).toBeGreaterThan(0);
    // Either rule alone is not enough.
    for (const [group, rule] of [[WEB, R.webToApp], [APP, R.appFromWeb]] as const) {
      const c = structuredClone(cloud);
      const g = c.groups!.find((x) => x.id === group)!;
      g.rules = g.rules.filter((r) => r.id !== rule);
      await reconcileAll(c);
      expect(await can('web', 'app', 9000), `without ${rule}`).toBe(false);
    }
    await reconcileAll();
    expect(await canEventually('web', 'app', 9000)).toBe(true);
  });

  it('removing a rule blocks the new flows it allowed; adding it back allows them again', async () => {
    const c = structuredClone(cloud);
    const g = c.groups!.find((x) => x.id === WEB)!;
    g.rules = g.rules.filter((r) => r.id !== R.web443);
    await reconcileAll(c);
    expect(await can('client', 'web', 443)).toBe(false);
    // The IPv6 rule for the same port is another rule.
    expect(await canEventually('client', 'web', 443, { v6: true })).toBe(true);
    await reconcileAll();
    expect(await canEventually('client', 'web', 443)).toBe(true);
  });

  it('CIDR rules: app admits tcp/8080 from 10.0.0.0/24 only', async () => {
    expect(await canEventually('client', 'app', 8080)).toBe(true);
    expect(await can('probe', 'app', 8080)).toBe(false);
  });

  it('ICMP rules: echo from 10.0.0.0/24 to web, nothing to app', async () => {
    expect(await lab.pingEventually(vm.client!, ip4('web'))).toBe(64);
    expect(await lab.ping(vm.client!, ip4('app'))).toBeNull();
  });

  it('IPv6 rules: tcp/443 over IPv6 to web (neighbour discovery passes implicitly), nothing else', async () => {
    expect(await canEventually('client', 'web', 443, { v6: true })).toBe(true);
    expect(await can('client', 'web', 9000, { v6: true })).toBe(false);
  });

  it('anti-spoofing: a spoofed source IP or MAC is dropped with port security on, passed with it off', async () => {
    const m = vm.mallory!;
    await sh(['ip', '-n', m.ns, 'addr', 'add', '10.0.0.99/24', 'dev', 'eth0']);
    const setPortSecurity = async (on: boolean): Promise<void> => {
      cloud.ports.find((p) => p.id === P.mallory!.id)!.portSecurity = on;
      await reconcileAll();
    };
    try {
      expect(await canEventually('mallory', 'client', 7000)).toBe(true);
      expect(await can('mallory', 'client', 7000, { source: '10.0.0.99' })).toBe(false);
      await setPortSecurity(false);
      expect(await canEventually('mallory', 'client', 7000, { source: '10.0.0.99' })).toBe(true);

      // Another MAC: dropped with port security, passed without.
      await sh(['ip', '-n', m.ns, 'addr', 'del', '10.0.0.99/24', 'dev', 'eth0']);
      await sh(['ip', '-n', m.ns, 'link', 'set', 'eth0', 'address', '02:66:66:66:66:66']);
      await sh(['ip', '-n', vm.client!.ns, 'neigh', 'flush', 'dev', 'eth0']);
      expect(await lab.pingEventually(m, ip4('client'))).toBe(64);
      await setPortSecurity(true);
      await sh(['ip', '-n', vm.client!.ns, 'neigh', 'flush', 'dev', 'eth0']);
      await sh(['ip', '-n', m.ns, 'neigh', 'flush', 'dev', 'eth0']);
      expect(await lab.ping(m, ip4('client'))).toBeNull();
    } finally {
      await sh(['ip', '-n', m.ns, 'link', 'set', 'eth0', 'address', P.mallory!.mac]);
      await shOk(['ip', '-n', m.ns, 'addr', 'del', '10.0.0.99/24', 'dev', 'eth0']);
      await setPortSecurity(true);
    }
    await sh(['ip', '-n', vm.client!.ns, 'neigh', 'flush', 'dev', 'eth0']);
    expect(await lab.pingEventually(m, ip4('client'))).toBe(64);
  });

  it('membership is set elements: app2 joining and leaving APP rewrites no group chain anywhere; on its host only its own chains appear', async () => {
    const groupChains = [WEB, APP, DB, BDENY].flatMap((g) => [`inet/${sgChainName(g, 'in')}`, `inet/${sgChainName(g, 'out')}`]);
    const before = await Promise.all(lab.hosts.map(chainListings));
    expect(Object.keys(before[0]!)).toEqual(expect.arrayContaining([`inet/${sgChainName(WEB, 'out')}`, `inet/${sgChainName(APP, 'in')}`]));

    const joined = structuredClone(cloud);
    setGroups(joined, 'app2', [APP]);
    // The other hosts' plans: set elements only (hv2 has DB, whose rule names APP).
    const hv2Plan = (await hv(2).dataplane.plan(hostView(joined, 'hv2'))).plan;
    expect(hv2Plan.batches.flatMap((b) => b.ops.flatMap((o) => (o.op === 'nft' ? o.commands.map((c) => c.cmd) : [o.op])))).toEqual(['add-element']);
    await reconcileAll(joined);
    await expectConverged(joined);
    const during = await Promise.all(lab.hosts.map(chainListings));
    lab.hosts.forEach((h, i) => {
      for (const name of groupChains) expect(during[i]![name], `${h.name} ${name}`).toBe(before[i]![name]);
    });
    // hv1 (app2's host): every chain that existed is byte-identical; the new ones are app2's.
    const own = [`inet/${portChainName(P.app2!.id, 'in')}`, `inet/${portChainName(P.app2!.id, 'out')}`, `bridge/${outMarkChainName(P.app2!.id)}`];
    for (const [name, listing] of Object.entries(before[0]!)) expect(during[0]![name], name).toBe(listing);
    expect(Object.keys(during[0]!).filter((n) => before[0]![n] === undefined).sort()).toEqual(own.sort());
    // The new member is reachable through the group rules: web → app2 (web's egress set, app2's ingress).
    expect(await canEventually('web', 'app2', 9000)).toBe(true);
    expect(await can('client', 'app2', 9000)).toBe(false);

    await reconcileAll(cloud);
    await expectConverged();
    const after = await Promise.all(lab.hosts.map(chainListings));
    lab.hosts.forEach((h, i) => {
      for (const name of groupChains) expect(after[i]![name], `${h.name} ${name}`).toBe(before[i]![name]);
    });
    // app2 is out of APP (and unfiltered again): web's egress no longer reaches it.
    expect(await can('web', 'app2', 9000)).toBe(false);
  });

  it('membership fast path: a member-only change is applied as one element transaction and leaves nothing for the full reconcile', async () => {
    // hv2 runs db, whose rule names APP: app2 joining APP changes only member keys in hv2's view.
    const joined = structuredClone(cloud);
    setGroups(joined, 'app2', [APP]);
    const prev = hostView(cloud, 'hv2');
    const fresh = hostView(joined, 'hv2');
    expect({ ...fresh, members: {} }).toEqual({ ...prev, members: {} });
    // As the agent's view store does: unchanged entries are the same objects.
    const shared = (v: typeof prev, from: typeof prev): typeof prev => ({
      ...from,
      members: Object.fromEntries(Object.entries(v.members).map(([k, m]) => [k, JSON.stringify(from.members[k]) === JSON.stringify(m) ? from.members[k]! : m])),
    });
    const next = shared(fresh, prev);
    const h = hv(2);
    await h.dataplane.reconcile(prev);
    const listing0 = await chainListings(h);
    const joinResult = await h.dataplane.applyChanges(memberDeltas(memberOnlyChanges(prev, next)!));
    expect(joinResult).toMatchObject({ added: 1, deleted: 0 });
    expect(joinResult!.desired.kernel.nft).toEqual(h.dataplane.desired(next).kernel.nft);
    expect((await h.dataplane.plan(next)).plan).toEqual({ batches: [] });
    expect(await chainListings(h)).toEqual(listing0);

    const back = shared(prev, next);
    const leaveResult = await h.dataplane.applyChanges(memberDeltas(memberOnlyChanges(next, back)!));
    expect(leaveResult).toMatchObject({ added: 0, deleted: 1 });
    expect((await h.dataplane.plan(back)).plan).toEqual({ batches: [] });
  });

  it('two tenants with identical 5-tuples do not share conntrack state (zones)', async () => {
    // Tenant A: ax1 10.0.0.13:5000 → ax2 10.0.0.14:6000 (hv1 → hv2). Tenant B: by 10.0.0.14:6000 → bx 10.0.0.13:5000,
    // which is exactly the reply of tenant A's flow. bx (BDENY) admits udp/5001 from by only: the canary, sent after,
    // on the same path, proves that a datagram to 5000 would have arrived by then.
    const trial = async (n: number): Promise<boolean> => {
      await udpSend(vm.ax1!.ns, '10.0.0.14', 6000, 5000, `a-${n}`);
      await servers.ax2!.waitFor(new RegExp(`^udp 6000 \\S+ a-${n}$`));
      await udpSend(vm.by!.ns, '10.0.0.13', 5000, 6000, `b-${n}`);
      await udpSend(vm.by!.ns, '10.0.0.13', 5001, 6001, `canary-${n}`);
      await servers.bx!.waitFor(new RegExp(`^udp 5001 \\S+ canary-${n}$`));
      return servers.bx!.lines.some((l) => l.endsWith(` b-${n}`));
    };
    expect(await trial(1)).toBe(false);

    // The control: with the zone map emptied (everything in zone 0), tenant B's datagram passes as tenant A's reply.
    await sh(['ip', 'netns', 'exec', hv(1).ns, 'nft', 'flush', 'map', 'inet', 'strata', 'zones']);
    expect(await trial(2)).toBe(true);

    // The next reconcile restores the zones (map elements only).
    const { plan } = await hv(1).dataplane.plan(hostView(cloud, 'hv1'));
    expect(plan.batches.flatMap((b) => b.ops.flatMap((o) => (o.op === 'nft' ? o.commands.map((c) => `${c.cmd} ${'map' in c ? c.map : ''}`) : [o.op])))).toEqual(['add-map-element zones']);
    await reconcileAll();
    expect(await trial(3)).toBe(false);
  });

  it('drift: a flushed table is restored by the next reconcile', async () => {
    await sh(['ip', 'netns', 'exec', hv(1).ns, 'nft', 'delete', 'table', 'inet', 'strata']);
    await sh(['ip', 'netns', 'exec', hv(1).ns, 'nft', 'flush', 'chain', 'bridge', 'strata', spoofChainName(P.mallory!.id)]).catch(() => undefined);
    await reconcileAll();
    await expectConverged();
    expect(await can('client', 'app', 9000)).toBe(false);
    expect(await canEventually('web', 'app', 9000)).toBe(true);
  });

  it('a failed transaction changes nothing; the next reconcile applies it', async () => {
    // Sabotage: a chain the plan does not expect makes its `add chain` fail halfway through the transaction.
    const h = hv(3);
    const c = structuredClone(cloud);
    setGroups(c, 'probe', [DB]);
    const { plan } = await h.dataplane.plan(hostView(c, 'hv3'));
    const nftOp = plan.batches[0]!.ops[0]!;
    expect(nftOp.op).toBe('nft');
    const before = await sh(['ip', 'netns', 'exec', h.ns, 'nft', 'list', 'ruleset']);
    const { applyPlan } = await import('./kernel/apply.js');
    const broken = { batches: [{ phase: 'nft' as const, ops: [{ op: 'nft' as const, commands: [...(nftOp.op === 'nft' ? nftOp.commands : []), { cmd: 'add-rule' as const, family: 'inet' as const, chain: 'no_such_chain', rule: { id: '0', text: 'drop', refs: [] } }] }] }] };
    await expect(applyPlan(h.exec, broken)).rejects.toThrow(/apply failed in phase nft/);
    expect(await sh(['ip', 'netns', 'exec', h.ns, 'nft', 'list', 'ruleset'])).toBe(before);
    await h.dataplane.reconcile(hostView(c, 'hv3'));
    expect((await h.dataplane.plan(hostView(c, 'hv3'))).plan).toEqual({ batches: [] });
    await reconcileAll();
  });
});
