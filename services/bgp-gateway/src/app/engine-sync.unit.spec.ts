/**
 * EngineSync against a recording stand-in for gobgpd's API: what it adds,
 * and when. A route reflector's session is opened only by openReflectors
 * (after the RIB pass), so its End-of-RIB follows the zone's whole table.
 */
import { describe, expect, it } from 'vitest';
import type { Logger } from '@strata/runtime';
import { desiredNeighbours } from '../domain/neighbours.js';
import { given } from '../domain/test/given.js';
import type { GobgpClient } from '../gobgp/client.js';
import { EngineSync } from './engine.js';
import { Secrets } from './secrets.js';

function fakeGobgpd() {
  const calls: string[] = [];
  const peers = new Map<string, string>();
  let asn = 0;
  const client = {
    getGlobal: async () => ({ asn, router_id: '198.18.0.2', listen_port: 179 }),
    startBgp: async (g: { asn: number }) => {
      asn = g.asn;
      calls.push('startBgp');
    },
    stopBgp: async () => void (asn = 0),
    listPeers: async () => [...peers].map(([neighbor_address, description]) => ({ conf: { neighbor_address, description } })),
    deletePeer: async (a: string) => void peers.delete(a),
    addPeer: async (p: { conf: { neighbor_address: string; description: string } }) => {
      peers.set(p.conf.neighbor_address, p.conf.description);
      calls.push(`addPeer ${p.conf.neighbor_address}`);
    },
    setPolicies: async () => void calls.push('setPolicies'),
    resetPeer: async () => undefined,
  };
  return { client: client as unknown as GobgpClient, calls, peers };
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as unknown as Logger;
const AZ2 = { name: 'az2', id: 2, vtepPrefixes: ['198.18.0.13/32'], vniRanges: [{ min: 20000, max: 29999 }] };

describe('EngineSync: route reflector sessions open after the RIB pass', () => {
  it('a sync adds the fabric peer but holds the reflector back; openReflectors adds it, once', async () => {
    const g = given().peer('tor', '198.18.0.1').federation(AZ2);
    const { client, calls, peers } = fakeGobgpd();
    const engine = new EngineSync(client, new Secrets({ BGP_PASSWORD_RR: 'md5' }, undefined), quiet);
    const neighbours = desiredNeighbours(g.state);
    const r = await engine.sync(g.state, neighbours);
    expect(r.started).toBe(true);
    expect(calls).toEqual(['startBgp', 'setPolicies', 'addPeer 198.18.0.1']);
    expect(peers.has('198.18.0.100')).toBe(false);
    expect(await engine.openReflectors()).toBe(1);
    expect(peers.has('198.18.0.100')).toBe(true);
    expect(await engine.openReflectors()).toBe(0);
    // a later sync finds it present: nothing held, nothing added twice
    await engine.sync(g.state, neighbours);
    expect(await engine.openReflectors()).toBe(0);
    expect(calls.filter((c) => c === 'addPeer 198.18.0.100')).toHaveLength(1);
  });

  it('gobgpd restarted (its peers gone): the reflector is held again until the next RIB pass', async () => {
    const g = given().federation(AZ2);
    const first = fakeGobgpd();
    const engine = new EngineSync(first.client, new Secrets({ BGP_PASSWORD_RR: 'md5' }, undefined), quiet);
    await engine.sync(g.state, desiredNeighbours(g.state));
    await engine.openReflectors();
    first.peers.clear();
    engine.forget();
    await engine.sync(g.state, desiredNeighbours(g.state));
    expect(first.peers.has('198.18.0.100')).toBe(false);
    expect(await engine.openReflectors()).toBe(1);
  });
});
