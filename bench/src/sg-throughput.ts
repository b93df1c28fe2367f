/**
 * VM-to-VM throughput through a group-to-group rule whose referenced set
 * holds 10,000 members, vs the same rule shape over a nearly empty set, vs
 * no security groups at all: one run, interleaved rounds.
 *
 *   npm run -w @strata/bench sg-throughput          (MEMBERS=10000 SECONDS=10 ROUNDS=3)
 *   QUICK=1 npm run -w @strata/bench sg-throughput     (MEMBERS=1000 SECONDS=3 ROUNDS=2 CRR_SECONDS=2; under 2 minutes)
 *
 * Knobs: MEMBERS (size of the big referenced group, default 10000), SECONDS
 * (per iperf3 run, default 10), ROUNDS (default 3), CRR_SECONDS (new TCP
 * connections per second, per measurement, default 3; 0 = skip), C
 * (commands in flight while building, default 32).
 *
 * Two hypervisors; VM a on hv1, VM b on hv2, one tenant network (VXLAN
 * between the hosts). Groups:
 *
 *   src-big    a + (MEMBERS − 1) unbound member ports     egress IPv4 any
 *   src-small  a only                                       egress IPv4 any
 *   dst-big    ingress tcp 5201-5202 from group src-big     (+ egress IPv4 any)
 *   dst-small  ingress tcp 5201-5202 from group src-small   (+ egress IPv4 any)
 *
 * A port c on hv2 (no VM) stays in dst-big, so hv2 holds src-big's set of
 * MEMBERS addresses in every configuration. a is in src-big and src-small.
 * Configurations, switched by one port.setGroups each (order rotated every
 * round; the switch is checked in hv2's kernel before measuring):
 *
 *   big    b in dst-big: b's ingress rule looks a up in the MEMBERS-element set
 *   small  b in dst-small: the same rule over the 1-element set
 *   none   a and b in no group: unfiltered (anti-spoofing stays, as in production)
 *
 * Measured per configuration: iperf3, 1 TCP stream, SECONDS s; and the rate
 * of new TCP connections (a Python client connecting and resetting in a
 * loop against a Python accept loop, CRR_SECONDS s). A security-group rule
 * is evaluated only for a connection's first packet (established packets
 * are accepted before the group chains), so bulk throughput cannot see the
 * set; the connection rate is where a set lookup would show. Ratios are per
 * round, reported as median (min–max).
 *
 * Last line: iperf3 Gbit/s through the rule over the MEMBERS-element set ÷
 * the same rule over the 1-element set (median of the per-round ratios,
 * interleaved in the same run); goal ≈ 1. The connection-rate ratio and
 * big ÷ unfiltered are printed beside it.
 */
import type { PortView, SecurityGroupView } from '@strata/contracts';
import { sh, type Lab, type Vm } from '@strata/lab';
import { QUICK, fmt, intEnv, log, printRatio, runPool, table, withTimeout } from './support/common.js';
import { CpuBusy, median, runHeader, sleep, startInNs, tenantNet, uptime, vmOn, withLab, type NsProcess } from './support/overlay.js';
import { crr, CRR_PORT, startCrrServer, tcpConnects } from './support/crr.js';
import { portChain, reactorDrained, setName, setSize, sgChain } from './support/secgroup.js';

const MEMBERS = intEnv('MEMBERS', QUICK ? 1_000 : 10_000, 2, 60_000);
const SECONDS = intEnv('SECONDS', QUICK ? 3 : 10, 1, 120);
const ROUNDS = intEnv('ROUNDS', QUICK ? 2 : 3, 1, 20);
const CRR_SECONDS = intEnv('CRR_SECONDS', QUICK ? 2 : 3, 0, 60);
const C = intEnv('C', 32, 1, 256);
const IPERF_PORT = 5201;

type Config = 'big' | 'small' | 'none';
const CONFIGS: Config[] = ['big', 'small', 'none'];

interface Sample {
  config: Config;
  round: number;
  gbps: number;
  retransmits: number;
  busy: number;
  crr: number;
  /** Elements of the set b's ingress rule looks up, on hv2, right before the measurement (0 for none). */
  setElements: number;
}

async function iperf(a: Vm, b: Vm): Promise<{ gbps: number; retransmits: number; busy: number }> {
  const busy = new CpuBusy();
  const client = startInNs(a.ns.name, ['iperf3', '-c', b.ip, '-p', String(IPERF_PORT), '-t', String(SECONDS), '-P', '1', '-J', '--connect-timeout', '5000']);
  let code: number | null;
  try {
    code = await withTimeout(client.exited, (SECONDS + 30) * 1000, 'iperf3 client');
  } catch (err) {
    await client.stop();
    throw err;
  }
  const share = busy.share();
  const j = JSON.parse(client.output()) as { error?: string; end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } } };
  if (code !== 0 || j.error || !j.end?.sum_received) throw new Error(`iperf3 failed (exit ${code}): ${j.error ?? client.output().slice(-1000)}`);
  return { gbps: j.end.sum_received.bits_per_second / 1e9, retransmits: j.end.sum_sent?.retransmits ?? 0, busy: share };
}

/** Chain text in hv, or '' when the chain does not exist. */
const chainText = (lab: Lab, host: string, chain: string): Promise<string> =>
  sh(['ip', 'netns', 'exec', lab.host(host).ns.name, 'nft', 'list', 'chain', 'inet', 'strata', chain]).catch(() => '');

async function main(): Promise<void> {
  runHeader('sg-throughput', { MEMBERS, SECONDS, ROUNDS, CRR_SECONDS, streams: 1, QUICK: QUICK ? 1 : 0 });
  const samples: Sample[] = [];
  let sizes = { big: 0, small: 0 };
  await withLab({ hypervisors: 2, resyncSeconds: 60 }, async (lab) => {
    const t = await tenantNet(lab, 'bench-sgt', 'sgt', '10.30.0.0/24');
    const pool = await tenantNet(lab, 'bench-sgt', 'sgt-members', '10.31.0.0/16');
    const who = t.who;
    const group = async (name: string, ingressFrom?: SecurityGroupView): Promise<SecurityGroupView> => {
      const g = await lab.secgroup.command('group.create', { name, description: 'sg-throughput' }, who);
      await lab.secgroup.command('rule.create', { groupId: g.id, direction: 'egress', ethertype: 'IPv4', protocol: 'any' }, who);
      if (ingressFrom) {
        await lab.secgroup.command(
          'rule.create',
          { groupId: g.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: IPERF_PORT, portMax: CRR_PORT, remoteGroupId: ingressFrom.id },
          who,
        );
      }
      return g;
    };
    const srcBig = await group('src-big');
    const srcSmall = await group('src-small');
    const dstBig = await group('dst-big', srcBig);
    const dstSmall = await group('dst-small', srcSmall);
    const setGroups = (portId: string, groupIds: string[]) => lab.secgroup.command('port.setGroups', { portId, groupIds }, who);

    const a = await vmOn(lab, t, 'a', 'hv1');
    const b = await vmOn(lab, t, 'b', 'hv2');
    const c: PortView = await lab.ipam.command('port.create', { networkId: t.net.id, name: 'c', hostId: 'hv2' }, who);
    await setGroups(c.id, [dstBig.id]);
    await setGroups(a.port.id, [srcBig.id, srcSmall.id]);
    await setGroups(b.port.id, [dstSmall.id]);

    const t0 = performance.now();
    await runPool(MEMBERS - 1, C, async (i) => {
      const p = await lab.ipam.command('port.create', { networkId: pool.net.id, name: `m-${i}` }, who);
      await setGroups(p.id, [srcBig.id]);
      if ((i + 1) % 2000 === 0) log(`  ${i + 1}/${MEMBERS - 1} member ports`);
    });
    await reactorDrained(lab);
    const hv2 = lab.host('hv2').ns.name;
    const bigSet = setName(srcBig.id);
    const smallSet = setName(srcSmall.id);
    for (let i = 0; ; i++) {
      sizes = { big: await setSize(hv2, 'inet', 'strata', bigSet), small: await setSize(hv2, 'inet', 'strata', smallSet) };
      if (sizes.big === MEMBERS && sizes.small === 1) break;
      if (i > 300) throw new Error(`hv2 sets: ${JSON.stringify(sizes)}, expected ${MEMBERS} and 1`);
      await sleep(2000);
    }
    log(`${MEMBERS - 1} members created, hv2 holds ${bigSet} (${sizes.big} elements) and ${smallSet} (${sizes.small}) after ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    let current: Config = 'small';
    const want = async (cfg: Config): Promise<void> => {
      if (cfg !== current) {
        const aGroups = cfg === 'none' ? [] : [srcBig.id, srcSmall.id];
        const bGroups = cfg === 'none' ? [] : [cfg === 'big' ? dstBig.id : dstSmall.id];
        if (current === 'none' || cfg === 'none') await setGroups(a.port.id, aGroups);
        await setGroups(b.port.id, bGroups);
        current = cfg;
      }
      // The kernel, not the API, decides when the configuration is in force.
      for (let i = 0; ; i++) {
        const bIn = await chainText(lab, 'hv2', portChain(b.port.id, 'in'));
        const aOut = await chainText(lab, 'hv1', portChain(a.port.id, 'out'));
        const ok =
          cfg === 'none'
            ? bIn === '' && aOut === ''
            : bIn.includes(`jump ${sgChain(cfg === 'big' ? dstBig.id : dstSmall.id, 'in')}`) && !bIn.includes(`jump ${sgChain(cfg === 'big' ? dstSmall.id : dstBig.id, 'in')}`) && aOut !== '';
        if (ok) break;
        if (i > 200) throw new Error(`configuration ${cfg} not in the kernel:\n${bIn}\n${aOut}`);
        await sleep(200);
      }
      // Sanity: the rule actually names the set we think it does.
      if (cfg !== 'none') {
        const rules = await chainText(lab, 'hv2', sgChain(cfg === 'big' ? dstBig.id : dstSmall.id, 'in'));
        if (!rules.includes(`@${cfg === 'big' ? bigSet : smallSet}`)) throw new Error(`dst chain does not use the ${cfg} set:\n${rules}`);
      }
    };

    await want('big');
    const servers: NsProcess[] = [];
    try {
      const iperfServer = startInNs(b.ns.name, ['iperf3', '-s', '-p', String(IPERF_PORT), '-B', b.ip, '--forceflush']);
      servers.push(iperfServer);
      await iperfServer.waitFor(/Server listening/, 10_000);
      servers.push(await startCrrServer(b.ns.name));
      // The dst groups allow TCP only (no ICMP): check the path with TCP connects, bounded.
      for (let i = 0; !(await tcpConnects(a, b.ip)); i++) {
        if (i > 60) throw new Error(`a cannot open a TCP connection to b (${b.ip}:${CRR_PORT})`);
        await sleep(500);
      }
      for (let r = 0; r < ROUNDS; r++) {
        log(`round ${r + 1}/${ROUNDS}: ${uptime()}`);
        for (let k = 0; k < CONFIGS.length; k++) {
          const cfg = CONFIGS[(k + r) % CONFIGS.length]!;
          await want(cfg);
          const setElements = cfg === 'none' ? 0 : await setSize(hv2, 'inet', 'strata', cfg === 'big' ? bigSet : smallSet);
          await sleep(500);
          const x = await iperf(a, b);
          const rate = await crr(a, b.ip, CRR_SECONDS);
          samples.push({ config: cfg, round: r, ...x, crr: rate, setElements });
          log(`  ${cfg}: ${x.gbps.toFixed(2)} Gbit/s, ${x.retransmits} retransmits, machine busy ${(x.busy * 100).toFixed(0)}%; ${fmt(rate)} new connections/s`);
          await sleep(1000);
        }
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });
  report(samples);
}

function report(samples: Sample[]): void {
  const perRound = (x: Config, y: Config, f: (s: Sample) => number): number[] => {
    const out: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const a = samples.find((s) => s.config === x && s.round === r);
      const b = samples.find((s) => s.config === y && s.round === r);
      if (a && b && f(b) > 0) out.push(f(a) / f(b));
    }
    return out;
  };
  const ratio = (x: Config, y: Config, f: (s: Sample) => number): string => {
    const rs = perRound(x, y, f);
    return rs.length ? `${median(rs).toFixed(3)} (${Math.min(...rs).toFixed(3)}–${Math.max(...rs).toFixed(3)})` : 'n/a';
  };
  const range = (xs: number[], d: number): string => `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})`;
  console.log(`\nuptime at the end: ${uptime()}\n`);
  console.log(`## VM→VM across hosts (VXLAN), iperf3 1 stream ${SECONDS} s, ${ROUNDS} round(s)\n`);
  const elems = (cfg: Config): string => [...new Set(samples.filter((s) => s.config === cfg).map((s) => fmt(s.setElements)))].join('/');
  const label: Record<Config, string> = {
    big: `rule from a group; its set on hv2: ${elems('big')} elements`,
    small: `rule from a group; its set on hv2: ${elems('small')} element(s)`,
    none: 'no security groups (unfiltered)',
  };
  const gb = (s: Sample): number => s.gbps;
  const cr = (s: Sample): number => s.crr;
  table(
    ['configuration', 'Gbit/s median (min–max)', 'vs small set', 'vs unfiltered', 'new conn/s median (min–max)', 'vs small set', 'vs unfiltered', 'retransmits (median)', 'machine busy % (median)'],
    CONFIGS.map((cfg) => {
      const xs = samples.filter((s) => s.config === cfg);
      return [
        label[cfg],
        range(xs.map(gb), 2),
        cfg === 'small' ? '1' : ratio(cfg, 'small', gb),
        cfg === 'none' ? '1' : ratio(cfg, 'none', gb),
        CRR_SECONDS ? range(xs.map(cr), 0) : 'skipped',
        CRR_SECONDS ? (cfg === 'small' ? '1' : ratio(cfg, 'small', cr)) : '',
        CRR_SECONDS ? (cfg === 'none' ? '1' : ratio(cfg, 'none', cr)) : '',
        fmt(median(xs.map((s) => s.retransmits))),
        fmt(median(xs.map((s) => s.busy * 100))),
      ];
    }),
  );
  const bigOverSmall = perRound('big', 'small', gb);
  console.log('');
  printRatio(bigOverSmall.length ? median(bigOverSmall) : NaN, {
    measured: `VM→VM Gbit/s through a rule over a ${fmt(MEMBERS)}-member set`,
    baseline: 'the same rule over a 1-member set (median of per-round ratios, interleaved)',
    goal: '≈ 1 (membership is set elements; hash lookups do not depend on the size)',
    also: `${CRR_SECONDS ? `new conn/s ${ratio('big', 'small', cr)}; ` : ''}big ÷ unfiltered ${ratio('big', 'none', gb)}`,
    digits: 3,
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
