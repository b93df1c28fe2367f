import { describe, expect, it } from 'vitest';
import { desiredAdvertisements } from './desired-table.js';
import { classify } from './import-policy.js';
import { desiredNeighbours, type ApplianceNeighbour, type NeighbourConflicts } from './neighbours.js';
import { given } from './test/given.js';

/** fw-2 of tenant-a owns 198.51.100.136/29; tenant-b has its own routed network overlapping the appliance subnet. */
const fabric = () =>
  given()
    .host('hv1', '198.18.0.11')
    .host('hv2', '198.18.0.12')
    .routedPools('198.19.0.0/16')
    .tenantNetwork('tenant-a', 'apps', true, ['sa', '198.19.1.0/24'])
    .tenantNetwork('tenant-b', 'evil', true, ['sb', '198.19.1.0/24'])
    .group('g', '198.19.0.0/16')
    .port('fw2', 'apps', 'hv1', ['198.19.1.11'], 'fw-2')
    .assign('ap', '198.51.100.136/29', 'fw-2', 'tenant-a');
const ann = (prefix: string) => ({ prefix, nextHop: '198.19.1.99', asPath: [65100] });

describe('appliance neighbours are ports bound to their tenant (issue 12, defect 2)', () => {
  it('another tenant\'s port with the same device id is a neighbour with nothing assigned: every prefix refused', () => {
    const g = fabric().port('impostor', 'evil', 'hv2', ['198.19.1.66'], 'fw-2');
    const n = desiredNeighbours(g.state).get('198.19.1.66') as ApplianceNeighbour;
    expect(n).toMatchObject({ portId: 'impostor', tenant: 'tenant-b', deviceId: 'fw-2' });
    expect(classify(g.state, n, [ann('198.51.100.137/32')]).map((v) => v.accepted || v.reason)).toEqual(['not-assigned']);
  });

  it('a later port of another tenant at the appliance\'s exact address neither takes nor moves the neighbour', () => {
    const conflicts: NeighbourConflicts = new Map();
    const g = fabric().port('0-impostor', 'evil', 'hv2', ['198.19.1.11'], 'fw-2');
    expect(desiredNeighbours(g.state, conflicts).get('198.19.1.11')).toMatchObject({ portId: 'fw2', tenant: 'tenant-a' });
    expect(conflicts.get('198.19.1.11')).toEqual(['0-impostor']);
    // Nor the fabric's host route to that address, whatever the port ids.
    expect(desiredAdvertisements(g.state).get('198.19.1.11/32')).toMatchObject({ kind: 'host-route', sourceId: 'fw2', nextHop: '198.18.0.11' });
  });

  it('whatever the port ids and order, an entitled appliance wins its address over an unentitled port', () => {
    // The squatter came first and has the lower id: still not the neighbour, because it is entitled to nothing.
    const g = given()
      .host('hv1', '198.18.0.11')
      .tenantNetwork('tenant-b', 'evil', true, ['sb', '198.19.1.0/24'])
      .tenantNetwork('tenant-a', 'apps', true, ['sa', '198.19.1.0/24'])
      .group('g', '198.19.0.0/16')
      .port('a-first', 'evil', 'hv1', ['198.19.1.11'], 'fw-2')
      .port('z-later', 'apps', 'hv1', ['198.19.1.11'], 'fw-2')
      .assign('ap', '198.51.100.136/29', 'fw-2', 'tenant-a');
    expect(desiredNeighbours(g.state).get('198.19.1.11')).toMatchObject({ portId: 'z-later', tenant: 'tenant-a' });
  });

  it('a learned route of the appliance is advertised only while its tenant\'s port is the neighbour at that address', () => {
    const g = fabric().route('198.19.1.11', '198.51.100.137/32', { deviceId: 'fw-2' });
    expect(desiredAdvertisements(g.state).get('198.51.100.137/32')?.kind).toBe('application-prefix');
    // fw-2's port goes; tenant-b's port at the same address with the same device id inherits nothing.
    delete g.state.fabric.ports['fw2'];
    g.port('impostor', 'evil', 'hv2', ['198.19.1.11'], 'fw-2');
    expect(desiredNeighbours(g.state).get('198.19.1.11')).toMatchObject({ portId: 'impostor' });
    expect(desiredAdvertisements(g.state).has('198.51.100.137/32')).toBe(false);
  });
});
