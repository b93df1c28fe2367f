import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveHost } from '@strata/hostview';
import { replay } from '@strata/hostview/testing';
import { desiredState } from '../dataplane/managers.js';
import { domainNamespace, sgChainName } from '../core/names.js';
import { InvalidEntryError } from '../view/store.js';
import { cloudLog, hostView, sgRule, subnet, type Cloud } from '../testkit/cloud.js';
import { compareLines, kernelLines, nftScript, renderHostLines } from './host-lines.js';

const R = randomUUID();
const NET = randomUUID();
const WEB = randomUUID();
const DB = randomUUID();
const rWeb = randomUUID();
const rDb = randomUUID();
const pWeb = randomUUID();
const pDb = randomUUID();

const cloud = (): Cloud => ({
  hosts: { hv1: '198.18.0.11', hv2: '198.18.0.12' },
  networks: [{ id: NET, tenant: 'A', vni: 100, domainId: R, subnets: [subnet('s4', '10.0.0.0/24', '10.0.0.1')] }],
  domains: [{ id: R, tenant: 'A', kind: 'router' }],
  ports: [
    { id: pWeb, networkId: NET, mac: '02:aa:00:00:00:11', host: 'hv1', fixedIps: [{ subnetId: 's4', ip: '10.0.0.11' }], groupIds: [WEB] },
    { id: pDb, networkId: NET, mac: '02:aa:00:00:00:31', host: 'hv2', fixedIps: [{ subnetId: 's4', ip: '10.0.0.31' }], groupIds: [DB] },
  ],
  groups: [
    { id: WEB, tenant: 'A', rules: [sgRule(rWeb, 'egress', { protocol: 'tcp', portMin: 5432, portMax: 5432, remoteGroupId: DB })] },
    { id: DB, tenant: 'A', rules: [sgRule(rDb, 'ingress', { protocol: 'tcp', portMin: 5432, portMax: 5432, remoteGroupId: WEB })] },
  ],
});

/** hv's keys as hostview derives them, values parsed (as the audit service receives them in a HostviewAtReply). */
function keysOf(c: Cloud, host: string): Record<string, unknown> {
  const model = replay(cloudLog(c).events);
  return Object.fromEntries([...deriveHost(model, host)].map(([k, v]) => [k, JSON.parse(v) as unknown]));
}

const texts = (lines: { kind: string; where: string; text: string }[], kind: string, where?: string): string[] =>
  lines.filter((l) => l.kind === kind && (where === undefined || l.where === where)).map((l) => l.text);

describe('renderHostLines: a view rendered through the agent\'s own desired-state code', () => {
  it('is the agent\'s composed desired state as lines (the Dataplane\'s managers, nothing else)', () => {
    const lines = renderHostLines('hv1', keysOf(cloud(), 'hv1'));
    const desired = desiredState(hostView(cloud(), 'hv1'), { nsPrefix: 'strata-' });
    const fromDesired = kernelLines(desired.kernel).sort(compareLines);
    expect(lines.filter((l) => l.kind !== 'dhcp')).toEqual(fromDesired);
  });

  it('renders links, neighbours, fdb, routes and the security-group tables of the host', () => {
    const lines = renderHostLines('hv1', keysOf(cloud(), 'hv1'));
    const ns = domainNamespace('strata-', R);
    expect(texts(lines, 'link', 'host')).toEqual(expect.arrayContaining([expect.stringMatching(/^sbr100 bridge mtu \d+ up address 02:53:42:00:00:64/), expect.stringMatching(/^svx100 vxlan .*vxlan id 100 local 198.18.0.11 dstport 4789 nolearning/)]));
    expect(texts(lines, 'link', ns)).toEqual(expect.arrayContaining([expect.stringMatching(/^qr100 veth /)]));
    // The remote port: a tunnel entry to its VTEP and a neighbour entry for the anycast gateway.
    expect(texts(lines, 'fdb')).toContain('02:aa:00:00:00:31 dev svx100 dst 198.18.0.12 self permanent');
    expect(texts(lines, 'neighbour', ns)).toContain('10.0.0.31 dev qr100 lladdr 02:aa:00:00:00:31 permanent');
    expect(texts(lines, 'address', ns)).toContain('10.0.0.1/24 dev qr100');
    // DB's member (on hv2) is an element of the set WEB's egress rule names; the rule is in WEB's chain.
    const elements = lines.filter((l) => l.kind === 'nft-element' && l.text === '10.0.0.31');
    expect(elements.length).toBeGreaterThan(0);
    const chain = texts(lines, 'nft-rule', `host inet strata chain ${sgChainName(WEB, 'out')}`);
    expect(chain[0]).toBe('chain');
    expect(chain.some((t) => t.includes('5432'))).toBe(true);
    expect(texts(lines, 'dhcp', `${ns} dhcp`)).toEqual(expect.arrayContaining(['host 02:aa:00:00:00:11 10.0.0.11']));
  });

  it('is sorted by kind and place, keeps each chain\'s rules in their order, and does not depend on the keys\' order', () => {
    const keys = keysOf(cloud(), 'hv1');
    const lines = renderHostLines('hv1', keys);
    const reversed = renderHostLines('hv1', Object.fromEntries(Object.entries(keys).reverse()));
    expect(reversed).toEqual(lines);
    expect([...lines].sort(compareLines)).toEqual(lines);
    const desired = desiredState(hostView(cloud(), 'hv1'), { nsPrefix: 'strata-' });
    for (const c of Object.values(desired.kernel.nft.tables.inet!.chains)) {
      expect(texts(lines, 'nft-rule', `host inet strata chain ${c.name}`).slice(1)).toEqual(c.rules.map((r) => r.text));
    }
  });

  it('takes the namespace prefix as the agent\'s option, and values as text or JSON', () => {
    const keys = keysOf(cloud(), 'hv1');
    const asText = Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, JSON.stringify(v)]));
    expect(renderHostLines('hv1', asText)).toEqual(renderHostLines('hv1', keys));
    const other = renderHostLines('hv1', keys, { nsPrefix: 'x-' });
    expect(other.some((l) => l.where === domainNamespace('x-', R))).toBe(true);
    expect(other.some((l) => l.where.startsWith('strata-'))).toBe(false);
  });

  it('a membership change is elements only: the rules are the same lines', () => {
    const before = renderHostLines('hv1', keysOf(cloud(), 'hv1'));
    const c = cloud();
    c.ports.push({ id: randomUUID(), networkId: NET, mac: '02:aa:00:00:00:32', host: 'hv2', fixedIps: [{ subnetId: 's4', ip: '10.0.0.32' }], groupIds: [DB] });
    const after = renderHostLines('hv1', keysOf(c, 'hv1'));
    expect(texts(after, 'nft-rule')).toEqual(texts(before, 'nft-rule'));
    expect(texts(after, 'nft-element').length).toBeGreaterThan(texts(before, 'nft-element').length);
  });

  it('an unregistered host (no host key) has no kernel objects; a key of another host is refused, naming it', () => {
    const keys = keysOf(cloud(), 'hv1');
    const noHost = Object.fromEntries(Object.entries(keys).filter(([k]) => k !== 'hv1.host'));
    expect(renderHostLines('hv1', noHost).filter((l) => l.kind !== 'dhcp')).toEqual([]);
    expect(() => renderHostLines('hv2', keys)).toThrow(InvalidEntryError);
    expect(() => renderHostLines('hv1', { 'hv1.port.x': { nonsense: true } })).toThrow(/hv1\.port\.x/);
  });

  it('nftScript: the nft lines of a namespace as an nft -f script (tables, sets, chains, elements, rules)', () => {
    const script = nftScript(renderHostLines('hv1', keysOf(cloud(), 'hv1')), 'host');
    expect(script).toMatch(/^add table inet strata$/m);
    expect(script).toMatch(/^add table bridge strata$/m);
    expect(script).toMatch(new RegExp(`^add chain inet strata ${sgChainName(WEB, 'out')}$`, 'm'));
    expect(script).toMatch(/^add chain inet strata \S+ \{ type filter hook forward priority \S+; policy \w+; \}$/m);
    expect(script).toMatch(/^add element inet strata \S+ \{ 10\.0\.0\.31 \}$/m);
  });
});
