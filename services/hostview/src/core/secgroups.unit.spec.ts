/**
 * Golden derivations of security groups: the three-tier example.
 *
 *   web  W1 W2 W3   ingress tcp/443 from anyone
 *   app  A1 A2      ingress tcp/9000 from members of web
 *   db   D1         ingress tcp/5432 from members of app
 *
 *   hv-1: W1 W2         its groups' rules name no group: sg.web only
 *   hv-2: W3 A1         app names web: members of web
 *   hv-3: A2 D1         app names web, db names app: members of web and app
 *
 * Every port is on one network (so networking keys exist too; these tests
 * look at the security keys and at exact op lists of secgroup events).
 */
import { describe, expect, it } from 'vitest';
import { GroupMember, HostSecurityGroup, LocalPort, type SecurityGroupRule } from '@strata/contracts';
import { networkAggregate, parseHostviewKey as parseKey } from '@strata/contracts';
import { affectedHosts, deriveHost } from './derive.js';
import { applyOps, orderForAgents, type KvOp } from './diff.js';
import { canonicalJson } from './json.js';
import { applyEvent, type ModelEvent } from './model.js';
import { HostViews } from './views.js';
import { deriveAll, Given, plain, replay, rule } from './test/given.js';

const T = 'tenant-a';
const NET = 'net-1';
const IP = {
  W1: '10.0.0.11',
  W2: '10.0.0.12',
  W3: '10.0.0.13',
  W4: '10.0.0.14',
  W5: '10.0.0.15',
  A1: '10.0.0.21',
  A2: '10.0.0.22',
  D1: '10.0.0.31',
  D2: '10.0.0.32',
} as const;
type PortName = keyof typeof IP;

const webHttps = rule('web-https', 'ingress', 'tcp', 443);
const appFromWeb = rule('app-9000', 'ingress', 'tcp', 9000, 9000, { remoteGroupId: 'web' });
const dbFromApp = rule('db-5432', 'ingress', 'tcp', 5432, 5432, { remoteGroupId: 'app' });

class World extends Given {
  /** A port on net-1 (W3 also has an IPv6 address, after its IPv4 one: IPAM's order is kept). */
  vm(name: PortName, hostId: string | null): ModelEvent {
    const fixedIps: { subnetId: string; ip: string }[] = [{ subnetId: 'sub-4', ip: IP[name] }];
    if (name === 'W3') fixedIps.push({ subnetId: 'sub-6', ip: '2001:db8::13' });
    return this.port(NET, name, hostId, `02:00:00:00:00:${IP[name].slice(-2)}`, fixedIps, T);
  }
}

function world(): World {
  const g = new World();
  g.host('hv-1', '198.18.0.1');
  g.host('hv-2', '198.18.0.2');
  g.host('hv-3', '198.18.0.3');
  g.network(NET, T, 100);
  g.subnet(NET, 'sub-4', '10.0.0.0/24', '10.0.0.1', T);
  g.subnet(NET, 'sub-6', '2001:db8::/64', '2001:db8::1', T);
  g.group('web', T, [webHttps]);
  g.group('app', T, [appFromWeb]);
  g.group('db', T, [dbFromApp]);
  const placement: [PortName, string, string][] = [
    ['W1', 'hv-1', 'web'],
    ['W2', 'hv-1', 'web'],
    ['W3', 'hv-2', 'web'],
    ['A1', 'hv-2', 'app'],
    ['A2', 'hv-3', 'app'],
    ['D1', 'hv-3', 'db'],
  ];
  // As the secgroup reactor does: the port first, then its groups.
  for (const [name, host, group] of placement) {
    g.vm(name, host);
    g.setGroups(name, [group], T);
  }
  return g;
}

const sg = (id: string, rules: SecurityGroupRule[]) => ({ id, tenant: T, rules });
const member = (groupId: string, portId: PortName, ips: string[] = [IP[portId]]) => ({ groupId, portId, ips });
const webMembers = (h: string) => ({
  [`${h}.member.web.W1`]: member('web', 'W1'),
  [`${h}.member.web.W2`]: member('web', 'W2'),
  [`${h}.member.web.W3`]: member('web', 'W3', [IP.W3, '2001:db8::13']),
});

/** Only the security keys of a view. */
const security = (keys: ReadonlyMap<string, string>) =>
  plain(new Map([...keys].filter(([k]) => ['sg', 'member'].includes(parseKey(k)!.kind))));

/** The model after all but the last `pending` events, with incrementally kept views. */
function live(g: Given, pending: number) {
  const model = replay(g.events.slice(0, g.events.length - pending));
  const views = new HostViews();
  views.rebuild(model);
  return { model, views, kv: views.snapshot() };
}

/** Apply one event; the KV writes in agent order. */
function step(ctx: ReturnType<typeof live>, event: ModelEvent): KvOp[] {
  const { ops } = ctx.views.apply(ctx.model, applyEvent(ctx.model, event));
  applyOps(ctx.kv, ops);
  return orderForAgents(ops);
}

const summary = (ops: KvOp[]): string[] => ops.map((o) => `${o.op} ${o.key}`);

describe('security groups in the host view: golden views', () => {
  it('hv-1 (web only) gets its group and no member: web’s rules name no group', () => {
    const model = replay(world().events);
    expect(security(deriveHost(model, 'hv-1'))).toEqual({ 'hv-1.sg.web': sg('web', [webHttps]) });
  });

  it('hv-2 (web, app) gets both groups and the members of web, which app’s rule names', () => {
    const model = replay(world().events);
    expect(security(deriveHost(model, 'hv-2'))).toEqual({
      'hv-2.sg.web': sg('web', [webHttps]),
      'hv-2.sg.app': sg('app', [appFromWeb]),
      ...webMembers('hv-2'),
    });
  });

  it('hv-3 (app, db) gets both groups, the members of web (named by app) and of app (named by db)', () => {
    const model = replay(world().events);
    expect(security(deriveHost(model, 'hv-3'))).toEqual({
      'hv-3.sg.app': sg('app', [appFromWeb]),
      'hv-3.sg.db': sg('db', [dbFromApp]),
      ...webMembers('hv-3'),
      'hv-3.member.app.A1': member('app', 'A1'),
      'hv-3.member.app.A2': member('app', 'A2'),
    });
  });

  it("a local port carries its groups and port security", () => {
    const g = world();
    g.portSecurity('W2', false, T);
    const view = plain(deriveHost(replay(g.events), 'hv-1'));
    expect(view['hv-1.port.W1']).toMatchObject({ groupIds: ['web'], portSecurity: true });
    expect(view['hv-1.port.W2']).toMatchObject({ groupIds: ['web'], portSecurity: false });
  });

  it('a new port has no decided groups (null, kept unplugged) until secgroup sets them, even to none', () => {
    const g = world();
    g.vm('W4', 'hv-1');
    const pending = plain(deriveHost(replay(g.events), 'hv-1'));
    expect(pending['hv-1.port.W4']).toMatchObject({ groupIds: null });
    g.portSecurity('W4', false, T); // port security alone decides nothing about groups
    expect(plain(deriveHost(replay(g.events), 'hv-1'))['hv-1.port.W4']).toMatchObject({ groupIds: null, portSecurity: false });
    g.setGroups('W4', [], T);
    expect(plain(deriveHost(replay(g.events), 'hv-1'))['hv-1.port.W4']).toMatchObject({ groupIds: [] });
  });

  it('every value satisfies the published schema and is canonical JSON; rules are sorted by id', () => {
    const g = world();
    g.addRule('app', rule('app-22', 'ingress', 'tcp', 22, 22, { remoteCidr: '192.0.2.0/24' }), T);
    const all = deriveAll(replay(g.events));
    const schemas = { port: LocalPort, sg: HostSecurityGroup, member: GroupMember } as const;
    let checked = 0;
    for (const [key, value] of all) {
      const kind = parseKey(key)!.kind;
      expect(canonicalJson(JSON.parse(value))).toBe(value);
      if (kind !== 'port' && kind !== 'sg' && kind !== 'member') continue;
      expect(schemas[kind].parse(JSON.parse(value))).toEqual(JSON.parse(value));
      checked += 1;
    }
    expect(checked).toBe(6 + 5 + 8); // ports; sg: web | web app | app db; members: hv-2 web×3, hv-3 web×3 app×2
    expect((JSON.parse(all.get('hv-2.sg.app')!) as { rules: { id: string }[] }).rules.map((r) => r.id)).toEqual(['app-22', 'app-9000']);
  });

  it('an unregistered host gets nothing; a member bound to it, or unbound, is still a member everywhere', () => {
    const g = world();
    g.vm('W4', 'hv-9');
    g.setGroups('W4', ['web'], T);
    g.vm('W5', null);
    g.setGroups('W5', ['web'], T);
    const model = replay(g.events);
    expect(deriveHost(model, 'hv-9').size).toBe(0);
    const all = plain(deriveAll(model));
    for (const h of ['hv-2', 'hv-3']) {
      expect(all[`${h}.member.web.W4`]).toEqual(member('web', 'W4'));
      expect(all[`${h}.member.web.W5`]).toEqual(member('web', 'W5'));
    }
  });

  it('a port listing only a deleted group keeps the id (fail closed: filtered, no rules) and is nobody’s member', () => {
    const g = world();
    g.group('tmp', T, [rule('tmp-any', 'ingress', 'any', null, null, { remoteGroupId: 'tmp' })]);
    g.vm('W4', 'hv-1');
    g.setGroups('W4', ['tmp'], T);
    g.deleteGroup('tmp', T); // secgroup refuses this while W4 is a member; a concurrent race can still produce it
    const view = plain(deriveHost(replay(g.events), 'hv-1'));
    expect(view['hv-1.port.W4']).toMatchObject({ groupIds: ['tmp'] });
    expect(Object.keys(view).filter((k) => k.includes('tmp') || k.includes('member'))).toEqual([]);
  });

  it("the default group (four rules, two naming itself) gives each host with a member every member of the tenant's default group", () => {
    const g = world();
    const self = { remoteGroupId: 'dflt' };
    g.group(
      'dflt',
      T,
      [
        rule('e4', 'egress', 'any', null, null, {}, 'IPv4'),
        rule('e6', 'egress', 'any', null, null, {}, 'IPv6'),
        rule('i4', 'ingress', 'any', null, null, self, 'IPv4'),
        rule('i6', 'ingress', 'any', null, null, self, 'IPv6'),
      ],
      true,
    );
    g.setGroups('W1', ['dflt', 'web'], T);
    g.setGroups('D1', ['db', 'dflt'], T);
    const all = plain(deriveAll(replay(g.events)));
    expect(Object.keys(all).filter((k) => k.includes('dflt')).sort()).toEqual(
      ['hv-1.sg.dflt', 'hv-1.member.dflt.W1', 'hv-1.member.dflt.D1', 'hv-3.sg.dflt', 'hv-3.member.dflt.W1', 'hv-3.member.dflt.D1'].sort(),
    );
    expect(all['hv-1.port.W1']).toMatchObject({ groupIds: ['dflt', 'web'] });
  });
});

describe('security groups: golden deltas (exact op lists)', () => {
  it('W4 joins web on hv-3: its LocalPort and sg.web on hv-3, one member key on each host naming web (hv-2, hv-3); hv-1 nothing', () => {
    const g = world();
    g.vm('W4', 'hv-3');
    const join = g.setGroups('W4', ['web'], T);
    const ctx = live(g, 1);
    expect([...affectedHosts(ctx.model, applyEvent(replay(g.events.slice(0, -1)), join))].sort()).toEqual(['hv-2', 'hv-3']);
    const ops = summary(step(ctx, join));
    expect([...ops].sort()).toEqual(['put hv-2.member.web.W4', 'put hv-3.member.web.W4', 'put hv-3.port.W4', 'put hv-3.sg.web']);
    // In agent order: the member before the rules that name its group, the rules before the port listing the group.
    expect(ops.map((o) => parseKey(o.split(' ')[1]!)!.kind)).toEqual(['member', 'member', 'sg', 'port']);
    expect(JSON.parse(ctx.kv.get('hv-3.port.W4')!)).toMatchObject({ groupIds: ['web'] });
    expect(JSON.parse(ctx.kv.get('hv-2.member.web.W4')!)).toEqual(member('web', 'W4'));
    expect(ctx.kv).toEqual(deriveAll(replay(g.events)));
  });

  it('an unbound port joins web: only the member keys on the hosts naming web', () => {
    const g = world();
    g.vm('W5', null);
    const join = g.setGroups('W5', ['web'], T);
    const ctx = live(g, 1);
    expect(summary(step(ctx, join)).sort()).toEqual(['put hv-2.member.web.W5', 'put hv-3.member.web.W5']);
    expect(ctx.kv).toEqual(deriveAll(replay(g.events)));
  });

  it('D2 joins db on hv-1: hv-1 gets its LocalPort, sg.db and the members of app (db names app); nobody names db, so nothing else', () => {
    const g = world();
    g.vm('D2', 'hv-1');
    const join = g.setGroups('D2', ['db'], T);
    const ctx = live(g, 1);
    expect(summary(step(ctx, join)).sort()).toEqual(['put hv-1.member.app.A1', 'put hv-1.member.app.A2', 'put hv-1.port.D2', 'put hv-1.sg.db']);
    expect(ctx.kv).toEqual(deriveAll(replay(g.events)));
  });

  it('W1 leaves web: its LocalPort, and the member key on each host naming web; hv-1 keeps sg.web (W2 is still there)', () => {
    const g = world();
    const leave = g.setGroups('W1', [], T);
    const ctx = live(g, 1);
    expect(summary(step(ctx, leave)).sort()).toEqual(['delete hv-2.member.web.W1', 'delete hv-3.member.web.W1', 'put hv-1.port.W1']);
    expect(JSON.parse(ctx.kv.get('hv-1.port.W1')!)).toMatchObject({ groupIds: [] });
    expect(ctx.kv.has('hv-1.sg.web')).toBe(true);
  });

  it('a rule naming app added to web: the hosts with web members get sg.web and the members of app; hv-3 (no web port) nothing', () => {
    const g = world();
    const ssh = rule('web-ssh', 'ingress', 'tcp', 22, 22, { remoteGroupId: 'app' });
    const add = g.addRule('web', ssh, T);
    const ctx = live(g, 1);
    expect(summary(step(ctx, add)).sort()).toEqual(
      ['put hv-1.sg.web', 'put hv-1.member.app.A1', 'put hv-1.member.app.A2', 'put hv-2.sg.web', 'put hv-2.member.app.A1', 'put hv-2.member.app.A2'].sort(),
    );
    expect(JSON.parse(ctx.kv.get('hv-1.sg.web')!)).toEqual(sg('web', [webHttps, ssh].sort((a, b) => (a.id < b.id ? -1 : 1))));
    expect(ctx.kv).toEqual(deriveAll(replay(g.events)));
  });

  it("app's rule naming web removed: hosts with app members rewrite sg.app and drop web's members", () => {
    const g = world();
    const remove = g.removeRule('app', 'app-9000', T);
    const ctx = live(g, 1);
    expect(summary(step(ctx, remove)).sort()).toEqual(
      [
        'put hv-2.sg.app',
        'put hv-3.sg.app',
        'delete hv-2.member.web.W1',
        'delete hv-2.member.web.W2',
        'delete hv-2.member.web.W3',
        'delete hv-3.member.web.W1',
        'delete hv-3.member.web.W2',
        'delete hv-3.member.web.W3',
      ].sort(),
    );
    expect(JSON.parse(ctx.kv.get('hv-3.sg.app')!)).toEqual(sg('app', []));
    expect(ctx.kv).toEqual(deriveAll(replay(g.events)));
  });

  it('W3 deleted: its host loses its port (and sg.web, its last web port); the hosts naming web lose its member key', () => {
    const g = world();
    const del = g.deletePort(NET, 'W3', T);
    const ctx = live(g, 1);
    const ops = summary(step(ctx, del)).filter((o) => !/\.(ep|net)\./.test(o));
    expect(ops.sort()).toEqual(['delete hv-2.port.W3', 'delete hv-2.sg.web', 'delete hv-2.member.web.W3', 'delete hv-3.member.web.W3'].sort());
    // The PortForgotten that follows changes no key.
    expect(step(ctx, g.forget('W3', T))).toEqual([]);
    expect(ctx.kv).toEqual(deriveAll(replay(g.events)));
  });

  it('W2 moves hv-1 → hv-3: hv-3 gains sg.web; its member keys elsewhere do not change', () => {
    const g = world();
    const move = g.bind(NET, 'W2', 'hv-3', 'hv-1', T);
    const ctx = live(g, 1);
    const ops = summary(step(ctx, move)).filter((o) => !/\.(ep|net)\./.test(o));
    expect(ops.sort()).toEqual(['delete hv-1.port.W2', 'put hv-3.port.W2', 'put hv-3.sg.web'].sort());
    expect(ctx.kv).toEqual(deriveAll(replay(g.events)));
  });

  it("W1's allowed address pairs: its member key on each host naming web carries the pair addresses (a CIDR pair left out)", () => {
    const g = world();
    const pairs = [
      { ipAddress: '10.0.0.100', macAddress: '02:00:00:00:00:11' },
      { ipAddress: '10.0.0.96/28', macAddress: '02:00:00:00:00:11' },
      { ipAddress: '10.0.0.100', macAddress: '02:00:00:00:00:99' },
    ];
    const set = g.emit('ipam.PortAllowedAddressPairsSet', { portId: 'W1', allowedAddressPairs: pairs }, networkAggregate(NET), T);
    const ctx = live(g, 1);
    expect(summary(step(ctx, set)).sort()).toEqual(['put hv-1.port.W1', 'put hv-2.member.web.W1', 'put hv-3.member.web.W1']);
    expect(JSON.parse(ctx.kv.get('hv-2.member.web.W1')!)).toEqual(member('web', 'W1', [IP.W1, '10.0.0.100']));
    expect(ctx.kv).toEqual(deriveAll(replay(g.events)));
    // Pairs removed: the member is its fixed IPs again.
    const none = g.emit('ipam.PortAllowedAddressPairsSet', { portId: 'W1', allowedAddressPairs: [] }, networkAggregate(NET), T);
    expect(summary(step(ctx, none)).sort()).toEqual(['put hv-1.port.W1', 'put hv-2.member.web.W1', 'put hv-3.member.web.W1']);
    expect(JSON.parse(ctx.kv.get('hv-3.member.web.W1')!)).toEqual(member('web', 'W1'));
  });

  it("W1's fixed IP changes (ipam.PortUpdated): its port and its member key on each host naming web carry the new address, the old one is in no member set", () => {
    const g = world();
    const before = [{ subnetId: 'sub-4', ip: IP.W1 }];
    const after = [{ subnetId: 'sub-4', ip: '10.0.0.50' }];
    const moved = g.emit('ipam.PortUpdated', { portId: 'W1', fixedIps: { before, after, released: before, allocated: after } }, networkAggregate(NET), T);
    const ctx = live(g, 1);
    const ops = summary(step(ctx, moved));
    expect(ops.filter((o) => o.includes('member')).sort()).toEqual(['put hv-2.member.web.W1', 'put hv-3.member.web.W1']);
    expect(ops).toContain('put hv-1.port.W1');
    expect(JSON.parse(ctx.kv.get('hv-2.member.web.W1')!)).toEqual({ groupId: 'web', portId: 'W1', ips: ['10.0.0.50'] });
    expect([...ctx.kv.values()].some((v) => v.includes(`"${IP.W1}"`))).toBe(false);
    expect(ctx.kv).toEqual(deriveAll(replay(g.events)));
  });

  it('port security turned off: the LocalPort only', () => {
    const g = world();
    const off = g.portSecurity('A2', false, T);
    const ctx = live(g, 1);
    expect(summary(step(ctx, off))).toEqual(['put hv-3.port.A2']);
  });

  it('re-setting the same groups writes nothing', () => {
    const g = world();
    const same = g.setGroups('A1', ['app'], T);
    const ctx = live(g, 1);
    expect(step(ctx, same)).toEqual([]);
  });
});
