import { describe, expect, it } from 'vitest';
import { desiredNeighbours } from '../domain/neighbours.js';
import { given, type Given } from '../domain/test/given.js';
import { engineInputs } from './engine.js';

const inputs = (g: Given): string => engineInputs(g.state, desiredNeighbours(g.state));

describe('engineInputs: when gobgpd needs a configuration check', () => {
  const world = (): Given =>
    given().host('hv1', '198.18.0.11').peer('tor', '198.18.0.1').group('fw', '198.19.1.0/24').network('r', true, ['s', '198.19.1.0/24']).network('n', false, ['t', '10.0.0.0/24']).routedPools('198.19.1.0/24');

  it('unchanged by a floating IP, a VM port, a hypervisor (nothing the engine is configured from)', () => {
    const g = world();
    const before = inputs(g);
    g.port('vm', 'n', 'hv1', ['10.0.0.5']).fip('f', '203.0.113.10', 'vm').host('hv2', '198.18.0.12');
    expect(inputs(g)).toBe(before);
  });

  it("changed by the settings, a fabric peer, an appliance neighbour and its group's limits and exports", () => {
    const g = world();
    const seen = new Set([inputs(g)]);
    const change = (f: (g: Given) => void): void => {
      f(g);
      const now = inputs(g);
      expect(seen.has(now)).toBe(false);
      seen.add(now);
    };
    change((g) => (g.state.config.settings = { localAs: 65010, routerId: '198.18.0.2', listenPort: 179 }));
    change((g) => g.peer('border', '198.18.0.254'));
    change((g) => g.port('fw1', 'r', 'hv1', ['198.19.1.10'], 'dev-1'));
    change((g) => g.group('fw', '198.19.1.0/24', 4, true));
  });

  it('changed by an EVPN binding (the export targets)', () => {
    const g = world().evpnDevice('sw', '198.18.0.21', '198.18.0.21', 65200);
    const before = inputs(g);
    g.bind('b', 'sw', 'n');
    expect(inputs(g)).not.toBe(before);
  });
});

describe('engineInputs: the federation', () => {
  it('changed by a network becoming federated (its route target joins the reflectors\' export policy)', () => {
    const AZ2 = { name: 'az2', id: 2, vtepPrefixes: ['198.18.0.16/28'], vniRanges: [{ min: 2000, max: 2999 }] };
    const g = given().host('hv1', '198.18.0.11').tenantNetwork('ta', 'net-a', false, ['s-a', '10.0.0.0/24']).federation(AZ2);
    const before = inputs(g);
    g.federated('net-a');
    expect(inputs(g)).not.toBe(before);
  });
});
