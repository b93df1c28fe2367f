/**
 * Positions of hostview's writes, event by event over real derived views:
 *
 *   router r joins net n; web: W1 (hv-1), ingress tcp/443 from anyone;
 *   app: A1 (hv-2), ingress tcp/9000 from members of web.
 *
 *   hv-1 holds: port.W1, ep.A1, net.n, domain.r, sg.web
 *   hv-2 holds: port.A1, ep.W1, net.n, domain.r, sg.app, member.web.W1
 */
import { describe, expect, it } from 'vitest';
import { hostviewKey } from '@strata/contracts';
import { applyEvent, emptyModel, type ModelEvent } from './model.js';
import { positionValue, resourcesOfKey, ViewPositions } from './positions.js';
import { Given, rule } from './test/given.js';
import { HostViews } from './views.js';

const T = 't';

function world(): Given {
  const g = new Given();
  g.host('hv-1', '198.18.0.1');
  g.host('hv-2', '198.18.0.2');
  g.host('hv-3', '198.18.0.3');
  g.network('n', T, 100);
  g.subnet('n', 's', '10.0.0.0/24', '10.0.0.1', T);
  g.router('r', T);
  g.addInterface('r', 's', 'n', T);
  g.group('web', T, [rule('https', 'ingress', 'tcp', 443)]);
  g.group('app', T, [rule('app', 'ingress', 'tcp', 9000, 9000, { remoteGroupId: 'web' })]);
  g.port('n', 'W1', 'hv-1', '02:00:00:00:00:01', [{ subnetId: 's', ip: '10.0.0.11' }], T);
  g.setGroups('W1', ['web'], T);
  g.port('n', 'A1', 'hv-2', '02:00:00:00:00:02', [{ subnetId: 's', ip: '10.0.0.21' }], T);
  g.setGroups('A1', ['app'], T);
  return g;
}

/** hostview's live path: each event applied, its writes recorded at its sequence; returns the position writes queued. */
function follow(events: Iterable<ModelEvent>, model = emptyModel(), views = new HostViews(), positions = new ViewPositions()) {
  const queued: string[] = [];
  for (const e of events) {
    const update = views.apply(model, applyEvent(model, e));
    for (const o of positions.record(update.ops, e.seq, (h) => views.keysOf(h).size > 0)) queued.push(o.op === 'put' ? `${o.key}=${o.value}` : `del ${o.key}`);
  }
  return { model, views, positions, queued };
}

const seqOf = (g: Given, type: string, match: (data: Record<string, unknown>) => boolean = () => true): number =>
  g.events.filter((e) => e.type === type && match(e.data as Record<string, unknown>)).at(-1)!.seq;

describe('ViewPositions', () => {
  it('names the resources each kind of key holds', () => {
    expect(resourcesOfKey('h.port.p')).toEqual(['port p']);
    expect(resourcesOfKey('h.ep.p')).toEqual(['port p']);
    expect(resourcesOfKey('h.member.g.p')).toEqual(['port p', 'security-group g']);
    expect(resourcesOfKey('h.net.n')).toEqual(['network n']);
    expect(resourcesOfKey('h.domain.r')).toEqual(['router r']);
    expect(resourcesOfKey('h.sg.g')).toEqual(['security-group g']);
    expect(resourcesOfKey('h.chain.c')).toEqual(['chain c']);
    expect(resourcesOfKey('h.host')).toEqual([]);
    expect(resourcesOfKey(hostviewKey.position('h'))).toEqual([]);
    expect(resourcesOfKey('h.bogus.x')).toEqual([]);
  });

  it('per host, the latest change written to it; per resource, the hosts holding it and the latest change of its keys there', () => {
    const g = world();
    const { positions, queued } = follow(g.events);
    const portW1 = seqOf(g, 'ipam.PortCreated', (d) => d.portId === 'W1');
    const groupsW1 = seqOf(g, 'secgroup.PortGroupsSet', (d) => d.portId === 'W1');
    const portA1 = seqOf(g, 'ipam.PortCreated', (d) => d.portId === 'A1');
    const groupsA1 = seqOf(g, 'secgroup.PortGroupsSet', (d) => d.portId === 'A1');

    // hv-3 has only its host key (registered, nothing on it): a host with keys all the same.
    expect(positions.hostPositions()).toEqual([
      { hostId: 'hv-1', position: portA1 }, // A1's endpoint
      { hostId: 'hv-2', position: groupsA1 }, // A1's groups: sg.app and web's members
      { hostId: 'hv-3', position: seqOf(g, 'ipam.HypervisorRegistered', (d) => d.hostId === 'hv-3') },
    ]);
    // Its endpoint on hv-2 came with A1 (needs net n there); its member key with A1's groups naming web.
    expect(positions.holders('port', 'W1')).toEqual([
      { hostId: 'hv-1', position: groupsW1 },
      { hostId: 'hv-2', position: groupsA1 },
    ]);
    expect(positions.keyPosition('hv-2.ep.W1')).toBe(portA1);
    expect(positions.keyPosition('hv-2.member.web.W1')).toBe(groupsA1);
    expect(positions.holders('security-group', 'web')).toEqual([
      { hostId: 'hv-1', position: groupsW1 },
      { hostId: 'hv-2', position: groupsA1 },
    ]);
    expect(positions.holders('security-group', 'app')).toEqual([{ hostId: 'hv-2', position: groupsA1 }]);
    expect(positions.holders('network', 'n')).toEqual([
      { hostId: 'hv-1', position: positions.keyPosition('hv-1.net.n')! },
      { hostId: 'hv-2', position: positions.keyPosition('hv-2.net.n')! },
    ]);
    expect(positions.holders('router', 'r').map((h) => h.hostId)).toEqual(['hv-1', 'hv-2']);
    expect(positions.holders('chain', 'none')).toEqual([]);
    // Every event that wrote to a host queued that host's position at its sequence.
    expect(queued).toContain(`hv-2.position.view=${positionValue(groupsA1)}`);
    expect(queued.filter((q) => q.startsWith('hv-3.'))).toEqual([`hv-3.position.view=${positionValue(seqOf(g, 'ipam.HypervisorRegistered', (d) => d.hostId === 'hv-3'))}`]);
  });

  it('a change moves only the keys it wrote; a deleted key leaves its resource; a host whose view empties loses its position', () => {
    const g = world();
    const state = follow(g.events);
    const { positions } = state;
    const before = positions.holders('port', 'W1');
    const rules = g.addRule('app', rule('app-2', 'ingress', 'tcp', 22), T);
    const { queued } = follow([rules], state.model, state.views, positions);
    // Only hv-2 holds app: its sg key moved; W1's keys there did not.
    expect(queued).toEqual([`hv-2.position.view=${positionValue(rules.seq)}`]);
    expect(positions.holders('security-group', 'app')).toEqual([{ hostId: 'hv-2', position: rules.seq }]);
    expect(positions.holders('port', 'W1')).toEqual(before);

    const gone = g.deletePort('n', 'W1', T);
    follow([gone], state.model, state.views, positions);
    expect(positions.holders('port', 'W1')).toEqual([]);
    expect(positions.holders('security-group', 'web')).toEqual([]);
    expect(positions.keyPosition('hv-2.member.web.W1')).toBeUndefined();

    const deregistered = g.deregister('hv-3');
    expect(follow([deregistered], state.model, state.views, positions).queued).toEqual([`del ${hostviewKey.position('hv-3')}`]);
    expect(positions.hostPositions().map((h) => h.hostId)).toEqual(['hv-1', 'hv-2']);
  });

  it('the start-up reconcile sets every key and host to the position it reconciled at', () => {
    const g = world();
    const { views, positions } = follow(g.events);
    positions.reset(views, 500);
    expect(positions.hostPositions()).toEqual(['hv-1', 'hv-2', 'hv-3'].map((hostId) => ({ hostId, position: 500 })));
    expect(positions.holders('port', 'W1')).toEqual([
      { hostId: 'hv-1', position: 500 },
      { hostId: 'hv-2', position: 500 },
    ]);
    expect(positions.keyPosition('hv-1.sg.web')).toBe(500);
  });
});
