/**
 * nftables rules on a hypervisor with 10 and with 10,000 members in a
 * referenced security group: the counts must be equal (membership is set
 * elements only); the element counts must differ by exactly the members
 * added.
 *
 *   npm run -w @strata/bench sg-rulecount
 *   QUICK=1 npm run -w @strata/bench sg-rulecount                                (LARGE=1000; under 2 minutes)
 *   MEMBERS=bound npm run -w @strata/bench sg-rulecount                          (members bound to the hypervisors)
 *
 * Knobs: SMALL (default 10), LARGE (default 10000), HOSTS (default 2),
 * MEMBERS (unbound, the default: the members run elsewhere; bound: pool
 * ports bound round-robin to the measured hypervisors, so each also has
 * LARGE/HOSTS local ports whose group changes idle → web), C (commands in
 * flight, default 32).
 *
 * The topology of sg-membership (support/secgroup.ts buildTopology): group
 * web (referenced), group app with `ingress tcp 9000 from group web` and a
 * port on every hypervisor, group idle with the same rules as web, a pool of
 * LARGE member ports of which SMALL start in web and the rest in idle. The
 * agents stay up: the LARGE − SMALL membership changes stream to them as
 * they would in production. On every hypervisor, after each phase:
 * `nft -j list table inet strata` and `bridge strata` (rules, chains, sets,
 * set elements, map elements), the rules counted again in `nft -a list
 * table` text, and the text with set elements and counter values removed
 * (the same rules with the same handles = nothing but elements changed).
 * The baseline is the SMALL phase of the same run.
 *
 * Last line: rules (inet + bridge, all hosts) with LARGE members ÷ the same
 * with SMALL members, same hypervisors and run; goal = 1 (membership is set
 * elements only, never rules).
 */
import { sh, type Lab } from '@strata/lab';
import { QUICK, fmt, intEnv, log, printRatio, table } from './support/common.js';
import { httpAddress, runHeader, scrape, uptime, withLab } from './support/overlay.js';
import { agentsQuiet, buildTopology, growWeb, setName, setSize, tableCounts, webSetSizeEverywhere, type MemberPlacement, type TableCounts } from './support/secgroup.js';

const SMALL = intEnv('SMALL', 10, 1, 100_000);
const LARGE = intEnv('LARGE', QUICK ? 1_000 : 10_000, 1, 60_000);
if (LARGE <= SMALL) throw new Error('LARGE must exceed SMALL');
const HOSTS = intEnv('HOSTS', 2, 1, 40);
const C = intEnv('C', 32, 1, 256);
const MEMBERS = (process.env['MEMBERS'] ?? 'unbound') as MemberPlacement;
if (MEMBERS !== 'bound' && MEMBERS !== 'unbound') throw new Error('MEMBERS: bound or unbound');

interface HostReading {
  host: string;
  inet: TableCounts;
  bridge: TableCounts;
  webElements: number;
  /** `nft -a list table` of both tables without set elements and counter values: rules with their handles. */
  skeleton: string;
  /** The agent's own gauges (strata_agent_objects). */
  agentRules: number;
  agentElements: number;
}

/** Rules and handles of a table as text, set/map elements and counter values removed. */
function skeletonOf(text: string): string {
  return text
    .replace(/elements = \{[^}]*\}/g, 'elements = {…}')
    .replace(/packets \d+ bytes \d+/g, 'packets N bytes N')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .join('\n');
}

async function read(lab: Lab, webId: string): Promise<HostReading[]> {
  const out: HostReading[] = [];
  for (const h of lab.hosts) {
    const text = async (family: string): Promise<string> =>
      sh(['ip', 'netns', 'exec', h.ns.name, 'nft', '-a', 'list', 'table', family, 'strata'], { timeoutMs: 120_000 }).catch(() => '');
    const m = await scrape(httpAddress(h.agent!));
    const obj = (kind: string): number => [...m].find(([k]) => k.startsWith('strata_agent_objects{') && k.includes(`kind="${kind}"`))?.[1] ?? NaN;
    out.push({
      host: h.id,
      inet: await tableCounts(h.ns.name, 'inet'),
      bridge: await tableCounts(h.ns.name, 'bridge'),
      webElements: await setSize(h.ns.name, 'inet', 'strata', setName(webId)),
      skeleton: skeletonOf(`${await text('inet')}\n${await text('bridge')}`),
      agentRules: obj('nft_rule'),
      agentElements: obj('nft_set_element'),
    });
  }
  return out;
}

async function main(): Promise<void> {
  runHeader('sg-rulecount', { SMALL, LARGE, HOSTS, MEMBERS, C, QUICK: QUICK ? 1 : 0 });
  const started = performance.now();
  let small: HostReading[] = [];
  let large: HostReading[] = [];
  await withLab({ hypervisors: HOSTS, resyncSeconds: 60 }, async (lab) => {
    const t = await buildTopology(lab, { poolSize: LARGE, initialInWeb: SMALL, placement: MEMBERS, concurrency: C });
    await webSetSizeEverywhere(lab, t, SMALL);
    await agentsQuiet(lab, 3000);
    small = await read(lab, t.web.id);
    log(`${SMALL} members: ${small.map((r) => `${r.host} ${r.inet.rules + r.bridge.rules} rules, ${r.inet.setElements} set elements`).join('; ')}`);
    const t0 = performance.now();
    await growWeb(lab, t, LARGE, C);
    await webSetSizeEverywhere(lab, t, LARGE);
    await agentsQuiet(lab, 3000);
    log(`agents converged on ${LARGE} members ${((performance.now() - t0) / 1000).toFixed(1)} s after the first of the ${LARGE - SMALL} changes`);
    large = await read(lab, t.web.id);
  });

  console.log(`\nuptime at the end: ${uptime()}\n`);
  console.log(`## nftables on each hypervisor: web (referenced by app's rule) with ${SMALL} vs ${LARGE} members, members ${MEMBERS}\n`);
  const rows: string[][] = [];
  let equal = true;
  let identical = true;
  for (const s of small) {
    const l = large.find((x) => x.host === s.host)!;
    const same = s.skeleton === l.skeleton;
    const rulesEqual = s.inet.rules + s.bridge.rules === l.inet.rules + l.bridge.rules && s.inet.rulesText + s.bridge.rulesText === l.inet.rulesText + l.bridge.rulesText;
    equal &&= rulesEqual;
    identical &&= same;
    for (const [label, r] of [[`${SMALL}`, s], [`${LARGE}`, l]] as const) {
      rows.push([
        s.host,
        label,
        String(r.inet.rules),
        String(r.bridge.rules),
        `${r.inet.rules + r.bridge.rules} (${r.inet.rulesText + r.bridge.rulesText})`,
        String(r.inet.chains + r.bridge.chains),
        String(r.inet.sets + r.bridge.sets),
        fmt(r.webElements),
        fmt(r.inet.setElements + r.bridge.setElements),
        fmt(r.inet.mapElements + r.bridge.mapElements),
        `${r.agentRules} / ${fmt(r.agentElements)}`,
      ]);
    }
    rows.push([s.host, `${LARGE} / ${SMALL}`, ratio(l.inet.rules, s.inet.rules), ratio(l.bridge.rules, s.bridge.rules), ratio(l.inet.rules + l.bridge.rules, s.inet.rules + s.bridge.rules), ratio(l.inet.chains + l.bridge.chains, s.inet.chains + s.bridge.chains), '', ratio(l.webElements, s.webElements), '', '', same ? 'rules + handles identical' : 'rule text differs']);
  }
  table(['host', 'members', 'inet rules', 'bridge rules', 'rules total (in -a text)', 'chains', 'sets', 'web v4 elements', 'set elements (all)', 'map elements', 'agent gauge rules / elements'], rows);
  console.log(`\nrule counts equal on every host: ${equal ? 'YES' : 'NO'}`);
  console.log(
    `rule text and handles unchanged on every host: ${identical ? 'YES' : 'NO'}${MEMBERS === 'bound' ? ' (bound: the moved ports\' own chains on their host now jump to web instead of idle, a rewritten chain with new handles)' : ''}`,
  );
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  const rules = (rs: HostReading[]): number => rs.reduce((n, r) => n + r.inet.rules + r.bridge.rules, 0);
  const elements = (rs: HostReading[]): number => rs.reduce((n, r) => n + r.webElements, 0);
  printRatio(rules(small) > 0 ? rules(large) / rules(small) : NaN, {
    measured: `nft rules with ${LARGE} members (${HOSTS} hosts)`,
    baseline: `the same with ${SMALL} members, same run`,
    goal: '= 1 (membership is set elements only)',
    also: `web set elements ${fmt(elements(large))} vs ${fmt(elements(small))}`,
    digits: 3,
  });
  if (!equal) process.exitCode = 2;
}

const ratio = (a: number, b: number): string => (b > 0 ? fmt(a / b, 3) : 'n/a');

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
