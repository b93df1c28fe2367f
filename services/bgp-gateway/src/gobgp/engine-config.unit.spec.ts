import { describe, expect, it } from 'vitest';
import type { Neighbour } from '../domain/neighbours.js';
import { peerConfig, peerSignature, policiesFor } from './engine-config.js';
import { isOriginated, originatedPath, readPath } from './paths.js';

const fw: Neighbour = { kind: 'appliance', address: '198.19.1.10', remoteAs: 65100, passwordRef: 'a', groupId: 'g', portId: 'p', deviceId: 'fw-1', maxPrefixes: 2, sendDefault: true };
const tor: Neighbour = { kind: 'fabric', address: '198.18.0.1', remoteAs: 65001, passwordRef: null, peerId: 'x' };

describe('gobgpd configuration', () => {
  it('an empty appliance set never matches (gobgpd treats an empty neighbour set as "every neighbour")', () => {
    const p = policiesFor([tor]) as { defined_sets: { name: string; list?: string[] }[] };
    for (const set of p.defined_sets.filter((s) => s.list)) expect(set.list).toEqual(['255.255.255.255/32']);
    const q = policiesFor([tor, fw]) as { defined_sets: { name: string; list?: string[] }[] };
    expect(q.defined_sets.find((s) => s.name === 'strata-appliances')?.list).toEqual(['198.19.1.10/32']);
  });

  it('the peer signature changes with the password and never contains it', () => {
    expect(peerSignature(fw, 'one')).not.toBe(peerSignature(fw, 'two'));
    expect(peerSignature(fw, 'secret-password')).not.toContain('secret');
    expect(peerConfig(fw, 'pw')).toMatchObject({ conf: { neighbor_address: '198.19.1.10', peer_asn: 65100, auth_password: 'pw' } });
  });

  it('originated paths carry the Strata community and read back as originated', () => {
    const read = readPath(originatedPath('203.0.113.10/32', '198.18.0.11'));
    expect(read).toMatchObject({ prefix: '203.0.113.10/32', nextHop: '198.18.0.11', peer: '' });
    expect(isOriginated(read!)).toBe(true);
    expect(isOriginated({ ...read!, communities: [] })).toBe(false);
    expect(isOriginated({ ...read!, peer: '198.19.1.10' })).toBe(false);
  });
});
