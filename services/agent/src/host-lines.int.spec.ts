/**
 * The audit rendering against a real kernel: the lines `renderHostLines`
 * gives for a host's view (what `strata audit host` shows) equal what the
 * agent actually programmed for that view, read back from the kernel — at
 * two points (a group's rules and membership changed in between), on two
 * hypervisors in namespaces (random prefix, deleted also on failure).
 *
 * Read back:
 *   - links, plugs, addresses, routes, policy rules, neighbours, FDB: the
 *     agent's own kernel reader (kernel/read.ts), rendered by the same
 *     `kernelLines`;
 *   - nftables: the lines of each namespace are turned back into an nft
 *     script (`nftScript`), loaded into an empty scratch namespace, and
 *     `nft -j list ruleset` there must equal `nft -j list ruleset` in the
 *     agent's namespace (host and each routing-domain namespace); and the
 *     agent's rule identities (digests in the comments) equal the rendered
 *     rules' digests.
 *
 * Normalised, because the kernel legitimately owns them:
 *   - a link's MAC where the agent leaves it to the kernel (desired `mac`
 *     null) and its bridge-port flags where the agent does not care
 *     (desired `brport` null) are not compared;
 *   - in the nft JSON: rule handles, the digest comments (compared
 *     separately), counters' packet and byte values, the metainfo object,
 *     the order of set elements (a set has none), and the order of the
 *     listing's objects (creation order), except each chain's rules.
 * DHCP (dnsmasq configuration) and sysctls are not compared here.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import { portDevice, type HostLine } from '@strata/contracts';
import { deriveHost } from '@strata/hostview';
import { replay } from '@strata/hostview/testing';
import { ruleDigest } from './core/nft.js';
import { readActual } from './kernel/read.js';
import { desiredForView, kernelLines, renderHostLines, viewFromKeys } from './render/host-lines.js';
import { cloudLog, sgRule, subnet, type Cloud, type CloudPort } from './testkit/cloud.js';
import { netlinkLines, normalisedActual, normaliseRuleset, rulesetOfLines as rulesetIn } from './testkit/kernel-lines.js';
import { NetLab, sh, type LabHost } from './testkit/netlab.js';

const d = describeIf(kernel(['nft', '--version']));

const R = randomUUID();
const front = randomUUID();
const back = randomUUID();
const WEB = randomUUID();
const DB = randomUUID();
const rules = { web443: randomUUID(), webToDb: randomUUID(), dbFromWeb: randomUUID(), web22: randomUUID() };

const port = (name: string, networkId: string, host: string, ip: string, subnetId: string, mac: string, groupIds: string[] = []): CloudPort & { name: string } => ({
  name,
  id: randomUUID(),
  networkId,
  mac,
  host,
  fixedIps: [{ subnetId, ip }],
  groupIds,
});
const PORTS = [
  port('web', front, 'hv1', '10.0.0.11', 'f4', '02:aa:00:00:00:11', [WEB]),
  port('app', back, 'hv1', '10.0.1.21', 'b4', '02:aa:00:00:01:21'),
  port('db', back, 'hv2', '10.0.1.31', 'b4', '02:aa:00:00:01:31', [DB]),
  port('db2', back, 'hv2', '10.0.1.32', 'b4', '02:aa:00:00:01:32'),
];

const cloudAt = (point: 1 | 2): Cloud => ({
  hosts: { hv1: '198.18.0.11', hv2: '198.18.0.12' },
  networks: [
    { id: front, tenant: 'A', vni: 100, domainId: R, subnets: [subnet('f4', '10.0.0.0/24', '10.0.0.1'), subnet('f6', 'fd00:a1::/64', 'fd00:a1::1', false)] },
    { id: back, tenant: 'A', vni: 101, domainId: R, subnets: [subnet('b4', '10.0.1.0/24', '10.0.1.1')] },
  ],
  domains: [{ id: R, tenant: 'A', kind: 'router' }],
  // At point 2 db2 joins DB (a set element on hv1) and WEB gains a rule.
  ports: PORTS.map(({ name, ...p }) => (point === 2 && name === 'db2' ? { ...p, groupIds: [DB] } : p)),
  groups: [
    {
      id: WEB,
      tenant: 'A',
      rules: [
        sgRule(rules.web443, 'ingress', { protocol: 'tcp', portMin: 443, portMax: 443 }),
        sgRule(rules.webToDb, 'egress', { protocol: 'tcp', portMin: 5432, portMax: 5432, remoteGroupId: DB }),
        ...(point === 2 ? [sgRule(rules.web22, 'ingress', { protocol: 'tcp', portMin: 22, portMax: 22, remoteCidr: '10.0.1.0/24' })] : []),
      ],
    },
    { id: DB, tenant: 'A', rules: [sgRule(rules.dbFromWeb, 'ingress', { protocol: 'tcp', portMin: 5432, portMax: 5432, remoteGroupId: WEB })] },
  ],
});

/** The host's keys as hostview writes them (values parsed): what the audit service gets from `strata.qry.hostview.at`. */
function keysOf(c: Cloud, host: string): Record<string, unknown> {
  return Object.fromEntries([...deriveHost(replay(cloudLog(c).events), host)].map(([k, v]) => [k, JSON.parse(v) as unknown]));
}

let lab: NetLab;
let scratchN = 0;
const hv = (n: number): LabHost => lab.host(n);

const netlink = netlinkLines;
const normalised = normalisedActual;
/** The rendered nft lines of one namespace loaded into a fresh namespace: its ruleset. */
const rulesetOfLines = (lines: HostLine[], label: string): Promise<string> => rulesetIn(lines, label, `${lab.prefix}scratch${++scratchN}`);

async function expectRenderingIsKernel(h: LabHost, c: Cloud): Promise<void> {
  const keys = keysOf(c, h.name);
  const lines = renderHostLines(h.name, keys, { nsPrefix: h.nsPrefix });
  const { desired } = desiredForView(viewFromKeys(h.name, keys), { nsPrefix: h.nsPrefix });
  const actual = await readActual(h.exec, h.nsPrefix);

  // Links, addresses, routes, neighbours, FDB: the agent's reader, rendered the same way.
  expect(netlink(kernelLines(normalised(actual, desired.kernel))), `${h.name}: links, addresses, routes, neighbours, fdb`).toEqual(netlink(lines));
  expect(netlink(lines).some((l) => l.startsWith('neighbour '))).toBe(true);

  // nftables, per namespace: the lines rebuilt into a ruleset equal the agent's, as the kernel lists both.
  const labels = [...new Set(lines.filter((l) => l.kind.startsWith('nft-')).map((l) => l.where.split(' ')[0]!))];
  expect(labels).toContain('host');
  for (const label of labels) {
    const agentRuleset = label === 'host' ? await sh(['ip', 'netns', 'exec', h.ns, 'nft', '-j', 'list', 'ruleset']) : await sh(['ip', 'netns', 'exec', label, 'nft', '-j', 'list', 'ruleset']);
    expect(normaliseRuleset(await rulesetOfLines(lines, label)), `${h.name}: nftables in ${label}`).toEqual(normaliseRuleset(agentRuleset));
  }

  // The agent's rule identities (the digests in the comments) are those of the rendered rules.
  for (const [family, table] of Object.entries(actual.nft.tables)) {
    for (const chain of Object.values(table!.chains)) {
      const rendered = lines.filter((l) => l.kind === 'nft-rule' && l.where === `host ${family} strata chain ${chain.name}`).slice(1);
      expect(chain.rules.map((r) => r.id), `${h.name}: ${family} ${chain.name}`).toEqual(rendered.map((l) => ruleDigest(l.text)));
    }
  }
}

d('the audit rendering equals what the agent programmed (real kernel, namespaces)', () => {
  beforeAll(async () => {
    lab = await NetLab.create(2);
    for (const p of PORTS) await lab.addVm(p.name, hv(Number(p.host.slice(2))), p.mac, portDevice(p.id));
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('at point 1 and at point 2 (a rule added, a member joined), on each hypervisor', async () => {
    for (const point of [1, 2] as const) {
      const c = cloudAt(point);
      for (const h of lab.hosts) {
        await h.dataplane.reconcile(viewFromKeys(h.name, keysOf(c, h.name)));
        await expectRenderingIsKernel(h, c);
      }
    }
    // The change between the points shows in the rendering: a new rule on hv1, a new element for db2.
    const before = renderHostLines('hv1', keysOf(cloudAt(1), 'hv1'), { nsPrefix: hv(1).nsPrefix });
    const after = renderHostLines('hv1', keysOf(cloudAt(2), 'hv1'), { nsPrefix: hv(1).nsPrefix });
    const added = after.filter((l) => !before.some((b) => b.kind === l.kind && b.where === l.where && b.text === l.text));
    expect(added.some((l) => l.kind === 'nft-element' && l.text === '10.0.1.32')).toBe(true);
    expect(added.some((l) => l.kind === 'nft-rule' && l.text.includes('22'))).toBe(true);
  });
});
