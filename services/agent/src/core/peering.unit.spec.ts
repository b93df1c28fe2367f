/**
 * A router's peering links in the desired kernel state (core/peering.ts,
 * router-routes.ts): given a host view with two routers on one segment,
 * then the segment's bridge, one veth per router with its transit address
 * and MAC, the other router as a permanent neighbour, the routes to its
 * prefixes out of the transit link, and a conntrack zone for the bridge.
 */
import { describe, expect, it } from 'vitest';
import { gatewayMac, type DomainPeering, type HostNetwork } from '@strata/contracts';
import { desiredState } from '../dataplane/managers.js';
import { peeringHostEnd } from './names.js';
import type { HostViewSnapshot } from './snapshot.js';

const R1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const R2 = 'bbbbbbbb-0000-4000-8000-000000000002';
const net = (id: string, vni: number, cidr: string, gw: string, domainId: string): HostNetwork => ({
  id,
  tenant: 't',
  vni,
  mtu: 1450,
  domainId,
  gatewayMac: gatewayMac(vni),
  floodVteps: [],
  subnets: [{ id: `s-${id}`, ipVersion: 4, cidr, gatewayIp: gw, enableDhcp: false }],
});
const peering = (attachmentId: string, ip: string, mac: string, other: { ip: string; mac: string }, destination: string): DomainPeering => ({
  segmentId: 'seg',
  vni: 300,
  cidr: '169.254.0.0/28',
  attachmentId,
  ip,
  mac,
  neighbours: [other],
  routes: [{ destination, nexthop: other.ip }],
});

const view = (): HostViewSnapshot => ({
  host: { id: 'hv1', vtepIp: '198.18.0.11', publicIp: '203.0.113.11' },
  networks: { n1: net('n1', 101, '10.1.0.0/24', '10.1.0.1', R1), n2: net('n2', 102, '10.2.0.0/24', '10.2.0.1', R2) },
  ports: {},
  endpoints: {},
  domains: {
    [R1]: { id: R1, tenant: 't', kind: 'router', networkIds: ['n1'], peerings: [peering('att1', '169.254.0.1', '02:53:54:00:00:01', { ip: '169.254.0.2', mac: '02:53:54:00:00:02' }, '10.2.0.0/24')] },
    [R2]: { id: R2, tenant: 'u', kind: 'router', networkIds: ['n2'], peerings: [peering('att2', '169.254.0.2', '02:53:54:00:00:02', { ip: '169.254.0.1', mac: '02:53:54:00:00:01' }, '10.1.0.0/24')] },
  },
  groups: {},
  members: {},
  chains: {},
  l2gateways: {},
});

describe('peering links', () => {
  it('given two routers on one segment, then its bridge, a transit link per router, the peer as neighbour and the routes out of it', () => {
    const { kernel } = desiredState(view(), { nsPrefix: 'p-' });
    const ns1 = 'p-daaaaaaaa0000';
    expect(kernel.links.sbr300).toMatchObject({ kind: 'bridge', ns: '', mtu: 1450, alias: 'strata:bridge:seg' });
    expect(kernel.links.svx300).toBeUndefined();
    const host1 = peeringHostEnd('att1');
    expect(host1).toMatch(/^spp[0-9a-f]{12}$/);
    expect(kernel.links[host1]).toMatchObject({ kind: 'veth', master: 'sbr300', peer: { ns: ns1, name: 'qp300' } });
    expect(Object.values(kernel.links).find((l) => l.ns === ns1 && l.name === 'qp300')).toMatchObject({ mac: '02:53:54:00:00:01', peer: { ns: '', name: host1 } });
    expect(Object.values(kernel.addrs).filter((a) => a.dev === 'qp300').map((a) => [a.ns, a.cidr])).toEqual(
      expect.arrayContaining([
        [ns1, '169.254.0.1/28'],
        ['p-dbbbbbbbb0000', '169.254.0.2/28'],
      ]),
    );
    expect(Object.values(kernel.neighs).filter((n) => n.dev === 'qp300' && n.ns === ns1)).toEqual([{ ns: ns1, dev: 'qp300', ip: '169.254.0.2', mac: '02:53:54:00:00:02' }]);
    expect(Object.values(kernel.routes).filter((r) => r.ns === ns1)).toEqual([{ ns: ns1, dst: '10.2.0.0/24', dev: 'qp300', via: '169.254.0.2' }]);
  });

  it('a router whose namespace is not here gets no link; the segment bridge has its own conntrack zone', () => {
    const v = view();
    delete v.networks.n2;
    const { kernel } = desiredState(v, { nsPrefix: 'p-' });
    expect(Object.values(kernel.links).filter((l) => l.name === 'qp300').map((l) => l.ns)).toEqual(['p-daaaaaaaa0000']);
    v.ports.p = { id: 'p', tenant: 't', networkId: 'n1', mac: '02:53:54:00:00:09', device: 'tapp', fixedIps: [{ subnetId: 's-n1', ip: '10.1.0.9' }], groupIds: ['g1'], portSecurity: true };
    const zones = desiredState(v, { nsPrefix: 'p-' }).kernel.nft.tables.inet?.maps.zones?.elements ?? {};
    expect(zones.sbr300).toBeDefined();
    expect(zones.sbr300).not.toBe(zones.sbr101);
  });
});
