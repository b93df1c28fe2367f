import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allowedLength, classify } from './import-policy.js';
import { desiredNeighbours, type ApplianceNeighbour } from './neighbours.js';
import { parsePrefix } from '@strata/netaddr';
import { given } from './test/given.js';

const fw = (maxPrefixes = 2) =>
  given()
    .host('hv1', '198.18.0.11')
    .network('apps', true, ['s', '198.19.1.0/24'])
    .group('g', '198.19.0.0/16', maxPrefixes)
    .port('fw', 'apps', 'hv1', ['198.19.1.10'], 'fw-1')
    .assign('ap', '198.51.100.128/29', 'fw-1');
const appliance = (g: ReturnType<typeof fw>) => desiredNeighbours(g.state).get('198.19.1.10') as ApplianceNeighbour;
const ann = (prefix: string) => ({ prefix, nextHop: '192.0.2.99', asPath: [65100] });

describe('appliance import policy', () => {
  it('accepts /32-/29 inside the assigned prefix with the appliance as next hop, refuses the rest with a reason', () => {
    const g = fw(3);
    const verdicts = classify(g.state, appliance(g), ['198.51.100.129/32', '198.51.100.0/24', '203.0.113.77/32', '198.51.100.128/29', '198.51.100.128/28'].map(ann));
    expect(verdicts.map((v) => [v.prefix, v.accepted ? `accepted via ${v.nextHop}` : v.reason])).toEqual([
      ['198.51.100.0/24', 'prefix-length'],
      ['198.51.100.128/28', 'prefix-length'],
      ['198.51.100.128/29', 'accepted via 198.19.1.10'],
      ['198.51.100.129/32', 'accepted via 198.19.1.10'],
      
      ['203.0.113.77/32', 'outside-assigned-range'],
    ]);
  });

  it('beyond maxPrefixes the valid prefixes in address order are accepted, the rest refused as max-prefix', () => {
    const g = fw(2);
    const v = classify(g.state, appliance(g), ['198.51.100.131/32', '198.51.100.129/32', '198.51.100.130/32'].map(ann));
    expect(v.map((x) => [x.prefix, x.accepted || x.reason])).toEqual([
      ['198.51.100.129/32', true],
      ['198.51.100.130/32', true],
      ['198.51.100.131/32', 'max-prefix'],
    ]);
  });

  it('an appliance with nothing assigned has everything refused as not-assigned', () => {
    const g = fw();
    delete g.state.config.assignments['ap'];
    expect(classify(g.state, appliance(g), [ann('198.51.100.129/32')])).toMatchObject([{ accepted: false, reason: 'not-assigned' }]);
  });

  it('never accepts more than maxPrefixes, nor anything outside /29-/32 (v4) and /64 (v6)', () => {
    const prefix = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, l]) => parsePrefix(`${a}/${l}`, false));
    fc.assert(
      fc.property(fc.array(prefix, { maxLength: 20 }), fc.integer({ min: 1, max: 5 }), (prefixes, max) => {
        const g = fw(max);
        g.assign('all', '0.0.0.0/0', 'fw-1');
        const text = [...new Set(prefixes.map((p) => `${p.network >> 24n}.${(p.network >> 16n) & 255n}.${(p.network >> 8n) & 255n}.${p.network & 255n}/${p.length}`))];
        const verdicts = classify(g.state, appliance(g), text.map(ann));
        const accepted = verdicts.filter((v) => v.accepted);
        expect(accepted.length).toBeLessThanOrEqual(max);
        for (const v of accepted) expect(allowedLength(parsePrefix(v.prefix))).toBe(true);
        expect(verdicts.length).toBe(text.length);
      }),
    );
  });
});

describe('appliance neighbours', () => {
  it('are bound ports of routed networks with an IPv4 address in a listen range; fabric peers keep their address', () => {
    const g = fw()
      .peer('tor', '198.18.0.1')
      .network('plain', false, ['x', '198.19.5.0/24'])
      .port('unrouted', 'plain', 'hv1', ['198.19.5.10'])
      .port('unbound', 'apps', null, ['198.19.1.11'])
      .port('outside', 'apps', 'hv1', ['198.20.0.1']);
    const n = desiredNeighbours(g.state);
    expect([...n.keys()].sort()).toEqual(['198.18.0.1', '198.19.1.10']);
    expect(n.get('198.19.1.10')).toMatchObject({ kind: 'appliance', deviceId: 'fw-1', groupId: 'g', maxPrefixes: 2 });
  });
});
