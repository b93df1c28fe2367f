/**
 * Service chaining: what a one-hop chain costs on the path, and that the
 * steering rules on a host do not grow with a classifier group's size.
 *
 *   npm run -s -w @strata/bench chaining            (SECONDS=10 ROUNDS=3 CRR_SECONDS=3 MEMBERS=10000)
 *   QUICK=1 npm run -s -w @strata/bench chaining    (SECONDS=3 ROUNDS=1 CRR_SECONDS=2 MEMBERS=300; under 2 minutes)
 *
 * Three hypervisors, one tenant router joining three networks: web (VM a on
 * hv1), app (VM b on hv3) and appliances (a firewall VM on hv2: it routes,
 * one-arm, and counts what it forwards). One classifier: tcp from group
 * `src` (a, plus unbound member ports) to b's subnet. Configurations,
 * switched by creating and deleting the chain (checked by the firewall's
 * counter before measuring), interleaved per round:
 *
 *   chain   a → hv1 steers to the firewall on hv2 → hv2 routes to b on hv3
 *   direct  a → hv1 routes to b on hv3
 *
 * Measured per configuration: iperf3 1 TCP stream for SECONDS, and new TCP
 * connections per second (connect + reset loop, CRR_SECONDS). The ratio
 * chain/direct is per round, reported as median (min–max). Then the
 * classifier's group grows from 10 to MEMBERS members: the rule count in
 * hv1's `inet strata` table (in the router's namespace) is read at both sizes (must be equal) with
 * the set's element count.
 *
 * Last line: chain ÷ direct iperf3 throughput (median of per-round ratios):
 * what one hop through the appliance costs against the path without it.
 */
import type { ChainView } from '@strata/contracts';
import { sh, type Lab, type Vm } from '@strata/lab';
import { QUICK, fmt, intEnv, log, printRatio, runPool } from './support/common.js';
import { crr, CRR_PORT, startCrrServer, tcpConnects } from './support/crr.js';
import { iperf } from './support/iperf.js';
import { median, runHeader, sleep, startInNs, tenantNet, uptime, vmOn, withLab, type NsProcess, type TenantNet } from './support/overlay.js';

const SECONDS = intEnv('SECONDS', QUICK ? 3 : 10, 1, 120);
const ROUNDS = intEnv('ROUNDS', QUICK ? 1 : 3, 1, 20);
const CRR_SECONDS = intEnv('CRR_SECONDS', QUICK ? 2 : 3, 0, 60);
const MEMBERS = intEnv('MEMBERS', QUICK ? 300 : 10_000, 11, 60_000);
const C = intEnv('C', 32, 1, 256);
const IPERF_PORT = 5201;

type Config = 'chain' | 'direct';
const CONFIGS: Config[] = ['chain', 'direct'];

const FIREWALL = `
table inet appliance {
  counter forwarded {}
  chain forward { type filter hook forward priority 0; policy accept; tcp dport { ${IPERF_PORT}, ${CRR_PORT} } counter name forwarded; }
}
`;

interface Sample {
  config: Config;
  round: number;
  gbps: number;
  retransmits: number;
  busy: number;
  crr: number;
}

const forwarded = async (fw: Vm): Promise<number> => {
  const out = await sh(['ip', 'netns', 'exec', fw.ns.name, 'nft', '-j', 'list', 'counter', 'inet', 'appliance', 'forwarded']);
  return (JSON.parse(out) as { nftables: { counter?: { packets: number } }[] }).nftables.find((o) => o.counter)!.counter!.packets;
};

/** Rules and set elements of `inet strata` (the steering table) in a routing domain's namespace. */
async function chainTable(ns: string): Promise<{ rules: number; elements: number }> {
  const out = JSON.parse(await sh(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'inet', 'strata'])) as {
    nftables: { rule?: unknown; set?: { elem?: unknown[] } }[];
  };
  let rules = 0;
  let elements = 0;
  for (const o of out.nftables) {
    if (o.rule) rules += 1;
    if (o.set) elements += o.set.elem?.length ?? 0;
  }
  return { rules, elements };
}

async function main(): Promise<void> {
  runHeader('chaining', { SECONDS, ROUNDS, CRR_SECONDS, MEMBERS, streams: 1, QUICK: QUICK ? 1 : 0 });
  const samples: Sample[] = [];
  const ruleCounts: Array<{ members: number; rules: number; elements: number }> = [];
  await withLab({ hypervisors: 3, chaining: true, resyncSeconds: 60 }, async (lab) => {
    const web = await tenantNet(lab, 'bench-sfc', 'web', '10.40.0.0/24');
    const who = web.who;
    const app: TenantNet = { ...(await tenantNet(lab, 'bench-sfc', 'app', '10.40.1.0/24')), who };
    const svc: TenantNet = { ...(await tenantNet(lab, 'bench-sfc', 'appliances', '10.40.2.0/24')), who };
    const pool: TenantNet = { ...(await tenantNet(lab, 'bench-sfc', 'members', '10.41.0.0/16')), who };
    const router = await lab.ipam.command('router.create', { name: 'r' }, who);
    for (const t of [web, app, svc, pool]) await lab.ipam.command('router.addInterface', { id: router.id, subnetId: t.subnet.id }, who);

    const src = await lab.secgroup.command('group.create', { name: 'src', description: 'chaining bench' }, who);
    // a may send anything (a group without an egress rule would drop its traffic).
    await lab.secgroup.command('rule.create', { groupId: src.id, direction: 'egress', ethertype: 'IPv4', protocol: 'any' }, who);
    const a = await vmOn(lab, web, 'a', 'hv1');
    const b = await vmOn(lab, app, 'b', 'hv3');
    const fw = await vmOn(lab, svc, 'fw', 'hv2');
    for (const v of [a, b]) await lab.secgroup.command('port.setGroups', { portId: v.port.id, groupIds: [] }, who);
    await lab.secgroup.command('port.setGroups', { portId: a.port.id, groupIds: [src.id] }, who);
    await lab.secgroup.command('port.setGroups', { portId: fw.port.id, groupIds: [] }, who);
    await lab.secgroup.command('port.setSecurity', { portId: fw.port.id, enabled: false }, who);
    for (const s of ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0']) await sh(['ip', 'netns', 'exec', fw.ns.name, 'sysctl', '-qw', s]);
    await sh(['ip', 'netns', 'exec', fw.ns.name, 'nft', '-f', '-'], { input: FIREWALL });
    // 9 more members, unbound (addresses only): the small size of the rule-count comparison.
    const grow = async (from: number, to: number) =>
      runPool(to - from, C, async (i) => {
        const p = await lab.ipam.command('port.create', { networkId: pool.net.id, name: `m-${from + i}` }, who);
        await lab.secgroup.command('port.setGroups', { portId: p.id, groupIds: [src.id] }, who);
        if ((i + 1) % 2000 === 0) log(`  ${from + i + 1}/${MEMBERS} members`);
      });
    await grow(1, 10);

    const chaining = lab.chaining!;
    const fn = await chaining.command('function.create', { name: 'fw', ingressPortId: fw.port.id }, who);
    const group = await chaining.command('group.create', { name: 'fw', functionIds: [fn.id] }, who);
    const classifier = await chaining.command('classifier.create', { name: 'src-to-app', protocol: 'tcp', source: { groupId: src.id }, destination: { cidr: app.subnet.cidr } }, who);
    let chain: ChainView | null = null;
    const domainNs = `${lab.prefix}hv1-d${router.id.replaceAll('-', '').slice(0, 12)}`;

    const want = async (cfg: Config): Promise<void> => {
      if (cfg === 'chain' && !chain) chain = await chaining.command('chain.create', { name: 'bench', routerId: router.id, groupIds: [group.id], classifierIds: [classifier.id] }, who);
      if (cfg === 'direct' && chain) {
        await chaining.command('chain.delete', { id: chain.id }, who);
        chain = null;
      }
      // The kernel, not the API, decides when the configuration is in force: a connection passes the firewall or not.
      for (let i = 0; ; i++) {
        const before = await forwarded(fw);
        const ok = (await tcpConnects(a, b.ip)) && ((await forwarded(fw)) > before) === (cfg === 'chain');
        if (ok) break;
        if (i > 120) throw new Error(`configuration ${cfg} not in force after 60 s`);
        await sleep(500);
      }
    };

    const servers: NsProcess[] = [];
    try {
      const iperfServer = startInNs(b.ns.name, ['iperf3', '-s', '-p', String(IPERF_PORT), '-B', b.ip, '--forceflush']);
      servers.push(iperfServer);
      await iperfServer.waitFor(/Server listening/, 10_000);
      servers.push(await startCrrServer(b.ns.name));
      const path = { key: 'a-b', label: 'a → b', clientNs: a.ns.name, serverNs: b.ns.name, serverIp: b.ip, mtu: web.net.mtu };
      for (let r = 0; r < ROUNDS; r++) {
        log(`round ${r + 1}/${ROUNDS}: ${uptime()}`);
        for (let k = 0; k < CONFIGS.length; k++) {
          const cfg = CONFIGS[(k + r) % CONFIGS.length]!;
          await want(cfg);
          await sleep(500);
          const x = await iperf(path, r, SECONDS, IPERF_PORT);
          const rate = await crr(a, b.ip, CRR_SECONDS);
          samples.push({ config: cfg, round: r, gbps: x.gbps, retransmits: x.retransmits, busy: x.busy, crr: rate });
          log(`  ${cfg}: ${x.gbps.toFixed(2)} Gbit/s, ${x.retransmits} retransmits, machine busy ${(x.busy * 100).toFixed(0)}%; ${fmt(rate)} new connections/s`);
        }
      }

      await want('chain');
      ruleCounts.push({ members: 10, ...(await chainTable(domainNs)) });
      const t0 = performance.now();
      await grow(10, MEMBERS);
      for (let i = 0; ; i++) {
        const now = await chainTable(domainNs);
        if (now.elements >= MEMBERS) {
          ruleCounts.push({ members: MEMBERS, ...now });
          break;
        }
        if (i > 600) throw new Error(`hv1's classifier set has ${now.elements} of ${MEMBERS} elements after 20 min`);
        await sleep(2000);
      }
      log(`group grown to ${MEMBERS} members in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });
  report(samples, ruleCounts);
}

function report(samples: Sample[], ruleCounts: Array<{ members: number; rules: number; elements: number }>): void {
  const ratios = (f: (s: Sample) => number): number[] => {
    const out: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const c = samples.find((s) => s.config === 'chain' && s.round === r);
      const d = samples.find((s) => s.config === 'direct' && s.round === r);
      if (c && d && f(d) > 0) out.push(f(c) / f(d));
    }
    return out;
  };
  const range = (xs: number[], digits: number): string => (xs.length ? `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})` : 'n/a');
  const of = (cfg: Config, f: (s: Sample) => number): number[] => samples.filter((s) => s.config === cfg).map(f);
  console.log(`\nuptime at the end: ${uptime()}\n`);
  console.log(`## a (hv1) → b (hv3), one-hop chain through a firewall VM on hv2 vs the direct path; ${ROUNDS} round(s)\n`);
  console.log('| | chain | direct | chain / direct (per round) |');
  console.log('|---|---|---|---|');
  console.log(`| iperf3 1 stream ${SECONDS} s, Gbit/s | ${range(of('chain', (s) => s.gbps), 2)} | ${range(of('direct', (s) => s.gbps), 2)} | ${range(ratios((s) => s.gbps), 3)} |`);
  console.log(`| retransmits | ${range(of('chain', (s) => s.retransmits), 0)} | ${range(of('direct', (s) => s.retransmits), 0)} | |`);
  console.log(`| new TCP connections/s (${CRR_SECONDS} s) | ${range(of('chain', (s) => s.crr), 0)} | ${range(of('direct', (s) => s.crr), 0)} | ${range(ratios((s) => s.crr), 3)} |`);
  console.log(`\n## Steering rules on hv1 (inet strata in the router's namespace) by classifier group size\n`);
  console.log('| members | rules | set elements |');
  console.log('|---|---|---|');
  for (const r of ruleCounts) console.log(`| ${fmt(r.members)} | ${r.rules} | ${fmt(r.elements)} |`);
  const equal = ruleCounts.length === 2 && ruleCounts[0]!.rules === ruleCounts[1]!.rules;
  console.log(`\nrule count independent of group size: ${equal ? 'yes' : 'NO'}`);
  const tput = ratios((s) => s.gbps);
  printRatio(tput.length ? median(tput) : NaN, {
    measured: 'chain (one hop through the firewall VM) iperf3 throughput',
    baseline: 'direct path, same VMs (median of per-round ratios)',
    goal: 'recorded (docs/performance.md: 0.724)',
    digits: 3,
    also: `connections/s ${range(ratios((s) => s.crr), 3)}; rule count independent of group size: ${equal ? 'yes' : 'NO'}`,
  });
  if (!equal) process.exitCode = 1;
}

await main();
