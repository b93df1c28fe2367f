/**
 * Golden derivations of service chains.
 *
 *   router r1: net-web (web ports), net-app (app port), net-fw (firewall legs)
 *   router r2: net-other (a port on hv-4 only)
 *
 *   hv-1: web port W1           hv-2: firewall FW1 (one-arm, on net-fw)
 *   hv-3: app port A1           hv-4: a port of router r2 only
 *
 * Chain web→app (tcp/9000, source group `web`) through group fw-group.
 */
import { describe, expect, it } from 'vitest';
import { decodeHostviewValue, parseHostviewKey as parseKey } from '@strata/contracts';
import { applyOps } from './diff.js';
import { applyEvent, type ModelEvent } from './model.js';
import { HostViews } from './views.js';
import { deriveAll, Given, replay } from './test/given.js';

const T = 'tenant-a';

function cloud(): Given {
  const g = new Given();
  for (const [h, v] of [['hv-1', 1], ['hv-2', 2], ['hv-3', 3], ['hv-4', 4]] as const) g.host(h, `198.18.0.${v}`);
  g.router('r1', T);
  g.router('r2', T);
  for (const [n, vni, s, x] of [['net-web', 101, 's-web', 1], ['net-app', 102, 's-app', 2], ['net-fw', 103, 's-fw', 3], ['net-other', 104, 's-other', 4]] as const) {
    g.network(n, T, vni);
    g.subnet(n, s, `10.0.${x}.0/24`, `10.0.${x}.1`, T);
    g.addInterface(n === 'net-other' ? 'r2' : 'r1', s, n, T);
  }
  g.group('web', T);
  g.port('net-web', 'W1', 'hv-1', '02:00:00:00:01:01', [{ subnetId: 's-web', ip: '10.0.1.11' }], T);
  g.setGroups('W1', ['web'], T);
  g.port('net-fw', 'FW1', 'hv-2', '02:00:00:00:03:01', [{ subnetId: 's-fw', ip: '10.0.3.11' }], T);
  g.port('net-app', 'A1', 'hv-3', '02:00:00:00:02:01', [{ subnetId: 's-app', ip: '10.0.2.11' }], T);
  g.port('net-other', 'O1', 'hv-4', '02:00:00:00:04:01', [{ subnetId: 's-other', ip: '10.0.4.11' }], T);
  g.serviceFunction('fw1', T, { ingress: 'FW1' }, { virtualIp: '10.0.3.100' });
  g.functionGroup('fw-group', T, ['fw1']);
  g.activeFunction('fw-group', 'fw1', T);
  g.classifier('web-to-app', T, { protocol: 'tcp', source: { groupId: 'web', cidr: null }, destinationPorts: { min: 9000, max: 9000 } });
  g.chain('c1', 'r1', ['fw-group'], ['web-to-app'], T);
  return g;
}

/** Apply one more event incrementally; the ops it wrote, as `op key`. */
function step(g: Given, views: HostViews, kv: Map<string, string>, event: () => ModelEvent, model = replay(g.events)): string[] {
  views.rebuild(model);
  kv.clear();
  for (const [k, v] of views.snapshot()) kv.set(k, v);
  const ops = views.apply(model, applyEvent(model, event())).ops;
  applyOps(kv, ops);
  expect(kv).toEqual(deriveAll(model));
  return ops.map((o) => `${o.op} ${o.key}`).sort();
}

describe('chain keys', () => {
  it('every host realising the router has the chain, with the member legs from IPAM; a host of another router has none', () => {
    const all = deriveAll(replay(cloud().events));
    const chainKeys = [...all.keys()].filter((k) => parseKey(k)?.kind === 'chain').sort();
    expect(chainKeys).toEqual(['hv-1.chain.c1', 'hv-2.chain.c1', 'hv-3.chain.c1']);
    const chain = decodeHostviewValue('chain', all.get('hv-1.chain.c1')!);
    expect(chain).toMatchObject({ id: 'c1', domainId: 'r1', symmetric: true, tenant: T });
    expect(chain.hops).toEqual([
      {
        groupId: 'fw-group',
        mode: 'l3',
        selection: 'active-standby',
        fallback: 'fail-closed',
        activeFunctionId: 'fw1',
        members: [
          {
            functionId: 'fw1',
            ingress: { portId: 'FW1', networkId: 'net-fw', mac: '02:00:00:00:03:01', ips: ['10.0.3.11'] },
            egress: { portId: 'FW1', networkId: 'net-fw', mac: '02:00:00:00:03:01', ips: ['10.0.3.11'] },
            healthy: true,
            healthCheck: null,
            virtualIp: '10.0.3.100',
          },
        ],
      },
    ]);
    // The classifier's group's members reach every host of the chain as member keys.
    expect([...all.keys()].filter((k) => k.includes('.member.web.')).sort()).toEqual(['hv-1.member.web.W1', 'hv-2.member.web.W1', 'hv-3.member.web.W1']);
  });

  it('a port joining the classifier group: one member key on each host of the chain, no chain key', () => {
    const g = cloud();
    g.port('net-web', 'W2', 'hv-1', '02:00:00:00:01:02', [{ subnetId: 's-web', ip: '10.0.1.12' }], T);
    const ops = step(g, new HostViews(), new Map(), () => g.setGroups('W2', ['web'], T));
    expect(ops).toEqual(['put hv-1.member.web.W2', 'put hv-1.port.W2', 'put hv-2.member.web.W2', 'put hv-3.member.web.W2']);
  });

  it('a failover (active member, health) rewrites the chain key on the router\'s hosts only', () => {
    const g = cloud();
    g.port('net-fw', 'FW2', 'hv-3', '02:00:00:00:03:02', [{ subnetId: 's-fw', ip: '10.0.3.12' }], T);
    g.serviceFunction('fw2', T, { ingress: 'FW2' }, { virtualIp: '10.0.3.100' });
    g.functionGroup('fw-group', T, ['fw1', 'fw2']);
    g.activeFunction('fw-group', 'fw1', T);
    expect(step(g, new HostViews(), new Map(), () => g.activeFunction('fw-group', 'fw2', T, 'garp'))).toEqual(['put hv-1.chain.c1', 'put hv-2.chain.c1', 'put hv-3.chain.c1']);
    expect(step(g, new HostViews(), new Map(), () => g.functionHealth('fw1', false, 'hv-2', T))).toEqual(['put hv-1.chain.c1', 'put hv-2.chain.c1', 'put hv-3.chain.c1']);
  });

  it('deleting the chain removes its keys and the member keys only it needed (no rule names `web`)', () => {
    const g = cloud();
    expect(step(g, new HostViews(), new Map(), () => g.deleteChain('c1', T))).toEqual([
      'delete hv-1.chain.c1',
      'delete hv-1.member.web.W1',
      'delete hv-2.chain.c1',
      'delete hv-2.member.web.W1',
      'delete hv-3.chain.c1',
      'delete hv-3.member.web.W1',
    ]);
  });

  it('a leg port deleted: the member leaves the hop (the chain stays, with no member)', () => {
    const g = cloud();
    const model = replay(g.events);
    step(g, new HostViews(), new Map(), () => g.deletePort('net-fw', 'FW1', T), model);
    const chain = decodeHostviewValue('chain', deriveAll(model).get('hv-1.chain.c1')!);
    expect(chain.hops[0]!.members).toEqual([]);
  });

  describe('updates', () => {
    const CHAIN_KEYS = ['put hv-1.chain.c1', 'put hv-2.chain.c1', 'put hv-3.chain.c1'];

    it("a function's new health check rewrites its chains' keys; a rename (function or classifier) writes nothing", () => {
      const g = cloud();
      const check = { protocol: 'tcp' as const, port: 22, intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3 };
      expect(step(g, new HostViews(), new Map(), () => g.updateFunction('fw1', T, { healthCheck: check }))).toEqual(CHAIN_KEYS);
      expect(decodeHostviewValue('chain', deriveAll(replay(g.events)).get('hv-1.chain.c1')!).hops[0]!.members[0]!.healthCheck).toEqual(check);
      expect(step(g, new HostViews(), new Map(), () => g.updateFunction('fw1', T, { name: 'firewall' }))).toEqual([]);
      expect(step(g, new HostViews(), new Map(), () => g.renameClassifier('web-to-app', T, 'web → app'))).toEqual([]);
    });

    it("a group's new members and a chain's new hops or classifiers rewrite the chain key (and the member keys it needs)", () => {
      const g = cloud();
      g.port('net-fw', 'FW2', 'hv-3', '02:00:00:00:03:02', [{ subnetId: 's-fw', ip: '10.0.3.12' }], T);
      g.serviceFunction('fw2', T, { ingress: 'FW2' });
      expect(step(g, new HostViews(), new Map(), () => g.updateFunctionGroup('fw-group', T, ['fw1', 'fw2']))).toEqual(CHAIN_KEYS);
      g.functionGroup('fw-group-2', T, ['fw2']);
      expect(step(g, new HostViews(), new Map(), () => g.updateChain('c1', T, { groupIds: ['fw-group-2'] }))).toEqual(CHAIN_KEYS);
      // The old group no longer reaches the chain: changing it writes nothing.
      expect(step(g, new HostViews(), new Map(), () => g.updateFunctionGroup('fw-group', T, ['fw1']))).toEqual([]);
      g.classifier('any-to-app', T, { protocol: 'tcp', destinationPorts: { min: 9001, max: 9001 } });
      // The classifier naming `web` leaves: the chain is rewritten and the member keys only it needed go.
      expect(step(g, new HostViews(), new Map(), () => g.updateChain('c1', T, { classifierIds: ['any-to-app'] }))).toEqual([
        ...CHAIN_KEYS,
        'delete hv-1.member.web.W1',
        'delete hv-2.member.web.W1',
        'delete hv-3.member.web.W1',
      ].sort());
    });
  });
});
