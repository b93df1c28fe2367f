import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FollowedPort } from '@strata/contracts';
import type { AgentState } from './agents.js';
import { portAdminUp, portStatus } from './port-status.js';
import type { Holder } from './realisation.js';
import { agent, agents } from './test/given.js';

const P = 'p1';
const port = (over: Partial<FollowedPort> = {}): FollowedPort => ({ id: P, tenant: 't', networkId: 'n', mac: '02:00:00:00:00:01', deviceId: '', fixedIps: [], hostId: 'hv1', createdSeq: 1, ...over });
const own = (o: Parameters<typeof agent>[1] = {}) => agent('hv1', { appliedPosition: 100, ports: { [P]: ['up'] }, ...o });
const holders: Holder[] = [
  { hostId: 'hv1', position: 100 },
  { hostId: 'hv2', position: 100 },
];
const status = (f: { port?: FollowedPort; holders?: Holder[]; list?: AgentState[] } = {}) =>
  portStatus({ port: f.port ?? port(), holders: f.holders ?? holders, seq: 120, agentOf: agents(...(f.list ?? [own(), agent('hv2')])) });

describe('port status: DOWN, BUILD, ACTIVE, ERROR and why', () => {
  it('is ACTIVE when its host applied it with the device up and every live holder applied it', () => {
    const s = status();
    expect(s).toMatchObject({ portId: P, status: 'ACTIVE', reason: '', hostId: 'hv1' });
    expect(s.realisation).toMatchObject({ kind: 'port', id: P, hosts: 2, applied: 2, realised: true, seq: 120 });
  });

  it('is DOWN when not bound, admin down, bound to an unregistered host or a host whose agent is down, or not plugged', () => {
    expect(status({ port: port({ hostId: null }) })).toMatchObject({ status: 'DOWN', reason: 'not bound to a hypervisor', hostId: null });
    expect(status({ port: { ...port(), adminStateUp: false } as FollowedPort })).toMatchObject({ status: 'DOWN', reason: 'admin state down' });
    expect(status({ list: [own({ registered: false }), agent('hv2')] })).toMatchObject({ status: 'DOWN', reason: 'bound to hv1, which is not a registered hypervisor' });
    expect(status({ list: [own({ alive: false, since: 'T0' }), agent('hv2')] })).toMatchObject({ status: 'DOWN', reason: 'agent on hv1 down since T0' });
    expect(status({ list: [own({ ports: { [P]: ['down'] } }), agent('hv2')] })).toMatchObject({ status: 'DOWN', reason: 'not plugged on hv1' });
    expect(status({ list: [own({ ports: { [P]: ['down', 'no device tap1'] } }), agent('hv2')] })).toMatchObject({ status: 'DOWN', reason: 'not plugged on hv1: no device tap1' });
  });

  it('is ERROR with the agent\'s reason when its agent reports an error for it', () => {
    expect(status({ list: [own({ ports: { [P]: ['error', 'nft: rule rejected'] } }), agent('hv2')] })).toMatchObject({ status: 'ERROR', reason: 'nft: rule rejected' });
    expect(status({ list: [own({ error: 'pass failed', ports: { [P]: ['error', ''] } }), agent('hv2')] })).toMatchObject({ status: 'ERROR', reason: 'pass failed' });
  });

  it('is BUILD, saying what it waits for, until its host and every live peer applied it', () => {
    expect(status({ holders: [{ hostId: 'hv2', position: 100 }] })).toMatchObject({ status: 'BUILD', reason: 'the view of hv1 does not hold it yet' });
    expect(status({ list: [own({ appliedPosition: 90 }), agent('hv2')] })).toMatchObject({ status: 'BUILD', reason: 'agent on hv1 applied 90 of 100' });
    expect(status({ list: [own({ ports: undefined }), agent('hv2')] })).toMatchObject({ status: 'BUILD', reason: 'waiting for the report of the agent on hv1' });
    expect(status({ list: [own({ ports: {} }), agent('hv2')] })).toMatchObject({ status: 'BUILD', reason: 'the agent on hv1 has not reported it yet' });
    const s = status({ list: [own(), agent('hv2', { appliedPosition: 97 })] });
    expect(s).toMatchObject({ status: 'BUILD', reason: 'waiting for peers: agent on hv2 applied 97 of 100' });
    expect(s.realisation).toMatchObject({ hosts: 2, applied: 1, realised: false });
  });

  it('is not held in BUILD by a peer whose agent is down: ACTIVE, with the dead peer listed behind', () => {
    const s = status({ list: [own(), agent('hv2', { alive: false, since: 'T0', appliedPosition: 3 })] });
    expect(s.status).toBe('ACTIVE');
    expect(s.realisation.behind).toEqual([{ hostId: 'hv2', position: 100, appliedPosition: 3, reason: 'agent on hv2 down since T0' }]);
    expect(s.realisation.realised).toBe(false);
  });

  it('reads the admin state IPAM records (absent: up)', () => {
    expect(portAdminUp(port())).toBe(true);
    expect(portAdminUp({ ...port(), adminStateUp: false } as FollowedPort)).toBe(false);
  });

  it('property: ACTIVE exactly when bound, up, its own agent alive and reporting it up at the holder\'s position, and every live holder applied', () => {
    const peer = fc.record({ alive: fc.boolean(), applied: fc.option(fc.integer({ min: 0, max: 200 }), { nil: null }), position: fc.integer({ min: 1, max: 200 }) });
    const ownGen = fc.record({
      alive: fc.boolean(),
      applied: fc.option(fc.integer({ min: 0, max: 200 }), { nil: null }),
      position: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
      state: fc.option(fc.constantFrom('up' as const, 'down' as const, 'error' as const), { nil: undefined }),
      bound: fc.boolean(),
    });
    fc.assert(
      fc.property(ownGen, fc.array(peer, { maxLength: 4 }), (o, peers) => {
        const hs: Holder[] = [...(o.position === undefined ? [] : [{ hostId: 'hv1', position: o.position }]), ...peers.map((p, i) => ({ hostId: `peer${i}`, position: p.position }))];
        const list = [
          agent('hv1', { alive: o.alive, appliedPosition: o.applied, ports: o.state === undefined ? {} : { [P]: [o.state] } }),
          ...peers.map((p, i) => agent(`peer${i}`, { alive: p.alive, appliedPosition: p.applied })),
        ];
        const s = portStatus({ port: port({ hostId: o.bound ? 'hv1' : null }), holders: hs, seq: 1, agentOf: agents(...list) });
        const applied = (a: number | null, pos: number) => a !== null && a >= pos;
        const active =
          o.bound &&
          o.alive &&
          o.state === 'up' &&
          o.position !== undefined &&
          applied(o.applied, o.position) &&
          peers.every((p) => !p.alive || applied(p.applied, p.position));
        expect(s.status === 'ACTIVE').toBe(active);
        if (!o.bound || !o.alive || o.state === 'down') expect(s.status).toBe('DOWN');
        if (s.status !== 'ACTIVE') expect(s.reason).not.toBe('');
      }),
    );
  });
});
