import { describe, expect, it } from 'vitest';
import type { GroupMember } from '@strata/contracts';
import { diff } from '../core/diff.js';
import { sgSetName } from '../core/names.js';
import type { HostViewSnapshot } from '../core/snapshot.js';
import { planSize, type Plan } from '../core/types.js';
import { Dataplane } from '../dataplane/dataplane.js';
import { desiredState } from '../dataplane/managers.js';
import { ApplyError } from '../kernel/apply.js';
import { hostView, sgRule, subnet, type Cloud } from '../testkit/cloud.js';
import type { CurrentView } from '../view/current.js';
import type { ViewChange } from '../view/store.js';
import { SimKernel } from './kernel.js';
import { simManagers } from './managers.js';

const NET = 'aaaaaaaa-0000-4000-8000-000000000001';
const WEB = 'eeeeeeee-0000-4000-8000-000000000001';
const APP = 'eeeeeeee-0000-4000-8000-000000000002';
const port = (n: number, host: string, groupIds: string[]) => ({
  id: `cccccccc-0000-4000-8000-00000000000${n}`,
  networkId: NET,
  mac: `02:00:00:00:00:0${n}`,
  fixedIps: [{ subnetId: 's4', ip: `10.0.0.${10 + n}` }],
  host,
  groupIds,
});

/** Two hosts, one network; hv1 has an app port whose group admits web; web's members are on hv2 (the third port too when `joined`). */
const cloud = (joined: boolean): Cloud => ({
  hosts: { hv1: '198.18.0.11', hv2: '198.18.0.12' },
  networks: [{ id: NET, tenant: 't', vni: 100, subnets: [subnet('s4', '10.0.0.0/24', '10.0.0.1')], domainId: NET }],
  domains: [{ id: NET, tenant: 't', kind: 'network' }],
  ports: [port(1, 'hv1', [APP]), port(2, 'hv2', [WEB]), port(3, 'hv2', joined ? [WEB] : [])],
  groups: [
    { id: WEB, tenant: 't', rules: [sgRule('r-web', 'egress')] },
    { id: APP, tenant: 't', rules: [sgRule('r-app', 'ingress', { remoteGroupId: WEB })] },
  ],
});

const OPTS = { nsPrefix: 'p-' };
const io = { exec: { run: () => Promise.reject(new Error('no programs')), spawnDetached: () => 0, watch: () => ({ stop: () => undefined }) }, nsPrefix: 'p-', stateDir: '/nonexistent' };

/** The kernel of a host brought to `view` by a full pass of the plan the diff makes; the VM taps of its ports exist. */
async function converged(view: HostViewSnapshot): Promise<SimKernel> {
  const k = new SimKernel();
  for (const p of desiredState(view, OPTS).ports) k.addDevice(p.device);
  await k.apply(diff(desiredState(view, OPTS).kernel, await k.read()));
  return k;
}

describe('the simulated kernel', () => {
  it('given the plan the diff makes for a host view, then after applying it the diff finds nothing left to do', async () => {
    const view = hostView(cloud(true), 'hv1');
    const k = await converged(view);
    expect(planSize(diff(desiredState(view, OPTS).kernel, await k.read()))).toBe(0);
    expect(Object.keys(k.peek().plugs)).toHaveLength(1);
    expect(k.peek().nft.tables.inet?.sets[sgSetName(WEB, 4)]?.elements).toEqual(['10.0.0.12', '10.0.0.13']);
  });

  it('given a plan with a step the kernel refuses, then the apply stops there with an ApplyError and the steps before it stay applied', async () => {
    const k = new SimKernel();
    const plan: Plan = {
      batches: [
        { phase: 'namespaces', ops: [{ op: 'ns-add', ns: 'p-a' }] },
        { phase: 'namespace-removals', ops: [{ op: 'ns-del', ns: 'p-missing' }, { op: 'ns-del', ns: 'p-a' }] },
      ],
    };
    await expect(k.apply(plan)).rejects.toBeInstanceOf(ApplyError);
    expect(Object.keys(k.peek().namespaces)).toEqual(['p-a']);
  });

  it('given an nft transaction whose last command is refused, then none of it is applied', async () => {
    const k = await converged(hostView(cloud(false), 'hv1'));
    const set = sgSetName(WEB, 4);
    const before = structuredClone(k.peek().nft);
    expect(() =>
      k.nft([
        { cmd: 'add-element', family: 'inet', set, elements: ['10.0.0.99'] },
        { cmd: 'delete-element', family: 'inet', set, elements: ['10.0.0.98'] },
      ]),
    ).toThrow();
    expect(k.peek().nft).toEqual(before);
  });

  it('given a plugged tap that goes away, then it is unplugged and its bridge forgets the entries pointing at it', async () => {
    const k = await converged(hostView(cloud(false), 'hv1'));
    const [tap] = Object.keys(k.peek().plugs);
    k.peek().fdb['bridge|sbr100|02:00:00:00:00:77'] = { kind: 'bridge', master: 'sbr100', mac: '02:00:00:00:00:77', dev: tap! };
    k.removeDevice(tap!);
    expect(k.peek().plugs).toEqual({});
    expect(Object.values(k.peek().fdb).filter((f) => f.kind === 'bridge' && f.dev === tap)).toEqual([]);
  });

  it('given a DHCP server for a namespace that does not exist, then it is refused', () => {
    const k = new SimKernel();
    expect(() => k.syncDhcp({ x: { ns: 'p-x', domainId: 'd', interfaces: [], subnets: [], hosts: [] } })).toThrow(/no namespace p-x/);
  });
});

describe('the real dataplane on the simulated kernel', () => {
  it('given a member joining a group a local rule names, then the fast path adds its address, and the result is what a full derivation wants', async () => {
    const k = new SimKernel();
    const dp = new Dataplane({ managers: simManagers(k), io, kernel: k });
    const v1 = hostView(cloud(false), 'hv1');
    const v2 = hostView(cloud(true), 'hv1');
    for (const p of desiredState(v1, OPTS).ports) k.addDevice(p.device);
    const journal: ViewChange[] = [];
    let view = v1;
    const current = (): CurrentView => ({ view, revision: journal.length, viewPosition: journal.length, journal: { epoch: 1, position: journal.length, changesSince: (from) => journal.slice(from), trim: () => undefined } });
    expect((await dp.sync(current(), { full: true })).kind).toBe('full');

    const id = `${WEB}.${port(3, 'hv2', []).id}`;
    const joined = v2.members[id] as GroupMember;
    view = v2;
    journal.push({ field: 'members', id, before: undefined, after: joined });
    const pass = await dp.sync(current());
    expect(pass.kind).toBe('fast');
    expect(k.counters.transactions).toBe(1);
    expect(k.peek().nft.tables.inet?.sets[sgSetName(WEB, 4)]?.elements).toEqual(['10.0.0.12', '10.0.0.13']);
    expect(planSize(diff(desiredState(v2, OPTS).kernel, await k.read()))).toBe(0);
  });

  it('given every manager of the agent, then each has a simulated runtime (a new one fails until it says what it does to the model)', () => {
    expect(() => simManagers(new SimKernel(), [{ name: 'new-feature', desired: () => ({}), attach: () => ({}) }])).toThrow(/new-feature/);
    expect(simManagers(new SimKernel()).map((m) => m.name)).toEqual(['overlay', 'dhcp', 'security-groups', 'router-routes', 'nat', 'chaining', 'chaining-wire']);
  });
});
