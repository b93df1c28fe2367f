/**
 * The gateway's `history` (issue 16, "state at any point"): for random
 * sequences of its configuration commands (settings, fabric peers, peer
 * groups, appliance assignments — all on the one `bgp.config.default`
 * aggregate), interleaved with IPAM's events it follows, at every position
 * of the log each peer and peer group as `history` rebuilds it from the
 * config aggregate alone equals its view in the fold of the whole log.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StrataError } from '@strata/errors';
import { BGP_CONFIG_AGGREGATE, bgpEvents, CLOUD_AGGREGATE, ipamEvents, type BgpCommandInput, type BgpCommandName } from '@strata/contracts';
import { admin, historyMismatches, tenantA, type HistoryCase } from '@strata/service-kit/testing';
import { bgpHistory } from '../app/history.js';
import type { Caller } from './decide/index.js';
import { World } from './test/world.js';

const NEVER = '00000000-0000-4000-8000-00000000dead';
/** Fabric peer addresses: some inside listen ranges below, so creations clash both ways. */
const ADDRESSES = ['198.18.0.1', '198.18.0.2', '198.18.0.9', '198.19.1.1', '198.20.0.5'];
const RANGES = ['198.19.0.0/16', '198.19.1.0/24', '198.20.0.0/24', '198.18.0.0/29', '10.1.0.0/24'];
const PREFIXES = ['00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-0000000000a3'];

const OPS = [
  'settings.set',
  'peer.create',
  'peer.update',
  'peer.delete',
  'peergroup.create',
  'peergroup.update',
  'peergroup.delete',
  'appliance.assign',
  'appliance.unassign',
  'ipam.hypervisor',
  'recreate',
] as const;

interface Step {
  op: (typeof OPS)[number];
  /** 0: a tenant (refused: the gateway is the operator's), else the admin. */
  who: number;
  pick: number;
  flag: boolean;
  choice: number;
}

const WEIGHT: Partial<Record<Step['op'], number>> = { 'peer.create': 3, 'peergroup.create': 3, 'peer.update': 2, 'peergroup.update': 2 };

const step: fc.Arbitrary<Step> = fc.record({
  op: fc.oneof(...OPS.map((op) => ({ arbitrary: fc.constant(op), weight: WEIGHT[op] ?? 1 }))),
  who: fc.nat(7),
  pick: fc.nat(20),
  flag: fc.boolean(),
  choice: fc.nat(4),
});

class Run {
  private readonly creations: Array<{ name: BgpCommandName; input: BgpCommandInput<BgpCommandName>; caller: Caller; requestId: string }> = [];
  private requests = 0;

  constructor(readonly w: World) {
    for (const [i, prefixId] of PREFIXES.entries()) {
      w.storeOf(ipamEvents, 'ipam.ApplicationPrefixAllocated', CLOUD_AGGREGATE, { prefixId, poolId: 'ap', prefix: `198.51.100.${4 * i}/30` }, i === 0 ? 'tenant-b' : 'tenant-a');
    }
  }

  command<K extends BgpCommandName>(name: K, input: BgpCommandInput<K>, caller: Caller, requestId = `req-${++this.requests}`): void {
    const d = this.w.decide(name, input, caller, requestId);
    if (d.kind === 'append') this.w.apply(d);
    if (name.endsWith('.create')) this.creations.push({ name, input, caller, requestId });
  }

  do(s: Step): void {
    const caller = s.who === 0 ? tenantA : admin;
    const cfg = this.w.state.config;
    const of = (ids: string[]): string | undefined => (ids.length === 0 ? undefined : ids.sort()[s.pick % ids.length]);
    const peer = of(Object.keys(cfg.peers));
    const group = of(Object.keys(cfg.groups));
    const prefixId = PREFIXES[s.pick % PREFIXES.length]!;
    const passwordRef = s.flag ? null : `md5-${s.choice}`;
    switch (s.op) {
      case 'settings.set':
        return this.command('settings.set', { localAs: 65000 + s.choice, routerId: '198.18.0.2' }, caller);
      case 'peer.create':
        return this.command('peer.create', { name: `tor${s.choice}`, address: ADDRESSES[s.pick % ADDRESSES.length]!, remoteAs: 65001, passwordRef: passwordRef ?? undefined }, caller);
      case 'peer.update':
        return peer === undefined ? undefined : this.command('peer.update', { id: peer, name: `tor${s.choice}`, remoteAs: 65001 + (s.flag ? 1 : 0), passwordRef }, caller);
      case 'peer.delete':
        return peer === undefined ? undefined : this.command('peer.delete', { id: peer }, caller);
      case 'peergroup.create':
        return this.command('peergroup.create', { name: `fw${s.choice}`, listenRange: RANGES[s.pick % RANGES.length]!, remoteAs: 65100, maxPrefixes: 1 + s.choice, sendDefault: s.flag }, caller);
      case 'peergroup.update':
        return group === undefined ? undefined : this.command('peergroup.update', { id: group, maxPrefixes: 1 + s.choice, sendDefault: s.flag, passwordRef }, caller);
      case 'peergroup.delete':
        return group === undefined ? undefined : this.command('peergroup.delete', { id: group }, caller);
      case 'appliance.assign':
        return this.command('appliance.assign', { prefixId, deviceId: `fw-${s.choice}` }, caller);
      case 'appliance.unassign':
        return this.command('appliance.unassign', { prefixId }, caller);
      case 'ipam.hypervisor':
        return void this.w.storeOf(ipamEvents, 'ipam.HypervisorRegistered', CLOUD_AGGREGATE, { hostId: `hv${s.choice}`, vtepIp: `198.18.1.${s.pick + 1}`, publicIp: '203.0.113.9', hostPoolId: 'h' }, '_system');
      case 'recreate': {
        // The same request again: a deleted peer or group comes back under its id, the config aggregate goes on.
        const again = this.creations[s.pick % Math.max(1, this.creations.length)];
        return again && this.command(again.name, again.input, again.caller, again.requestId);
      }
    }
  }
}

/** Every peer and peer group the log names, and one it never does. */
function resourcesOf(w: World): HistoryCase[] {
  const out = new Map<string, HistoryCase>();
  const aggregateId = BGP_CONFIG_AGGREGATE.id;
  for (const e of w.events) {
    const d = e.data as { peerId?: string; groupId?: string };
    if (e.aggregate.context !== 'bgp') continue;
    if (d.peerId) out.set(`p/${d.peerId}`, { kind: 'bgp-peer', id: d.peerId, aggregateId });
    if (d.groupId) out.set(`g/${d.groupId}`, { kind: 'bgp-peer-group', id: d.groupId, aggregateId });
  }
  return [...out.values(), { kind: 'bgp-peer', id: NEVER, aggregateId }, { kind: 'bgp-peer-group', id: NEVER, aggregateId }];
}

function logOf(steps: Step[]): World {
  const r = new Run(new World());
  for (const s of steps) {
    try {
      r.do(s);
    } catch (err) {
      if (!(err instanceof StrataError)) throw err;
    }
  }
  return r.w;
}

describe('bgp history', () => {
  it('at every position, each peer and peer group rebuilt from the config aggregate equals its view in the full fold (property)', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 40, size: 'max' }), async (steps) => {
        const w = logOf(steps);
        for (const e of w.events) seen.add(e.type);
        expect(await historyMismatches(bgpHistory, w.events, resourcesOf(w))).toEqual([]);
      }),
      { numRuns: 100 },
    );
    // The runs wrote every configuration event (a generator whose commands were all refused would prove nothing).
    const config = bgpEvents.definitions.map((d) => d.type).filter((t) => /Settings|Peer|Appliance.*Prefix/.test(t));
    expect(config.filter((t) => !seen.has(t))).toEqual([]);
  });
});
