/**
 * IPAM's history answers from one aggregate's events what the projection
 * shows from all of them: random command sequences through IPAM's own
 * deciders, executor and projection into the in-memory event store, then for every position S and
 * every resource of the log, the last version at or before S (from
 * `resourceHistory`) equals the resource's view in the full fold (the
 * projection's fold, request index included) of the log up to S.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StrataError } from '@strata/errors';
import {
  AUDIT_KINDS,
  eventFilter,
  IPAM_CONTEXT,
  ipamContract,
  ipamEvents,
  type AuditKind,
  type IpamCommandInput,
  type IpamCommandName,
  type IpamEvent,
  type ResourceHistoryReply,
} from '@strata/contracts';
import { InMemoryEventStore, type StoredEvent } from '@strata/eventlog';
import { createLogger } from '@strata/runtime';
import { Executor, Projection, resourceHistory } from '@strata/service-kit';
import { ZodError } from 'zod';
import { ipamAuditView } from '../domain/audit-views.js';
import { deciders, finishNetworkDeletion, judgeGarp, type Caller, type Decision, type GarpVerdict, type NewIpamEvent } from '../domain/decide/index.js';
import { defaultPolicy } from '../domain/policy.js';
import { initialState, type IpamState } from '../domain/state.js';
import { foldIpam } from './fold.js';
import { ipamHistorySource } from './history.js';

const at = '2026-01-01T00:00:00.000Z';
const admin: Caller = { actor: 'admin', tenant: 'ops', admin: true, requestId: '', at };
const tenants: Caller[] = [
  { actor: 'alice', tenant: 'tenant-a', admin: false, requestId: '', at },
  { actor: 'bob', tenant: 'tenant-b', admin: false, requestId: '', at },
];

/** The kind of resource each creating event makes. */
const CREATES: Record<string, AuditKind> = {
  'ipam.NetworkCreated': 'network',
  'ipam.SubnetCreated': 'subnet',
  'ipam.PortCreated': 'port',
  'ipam.RouterCreated': 'router',
  'ipam.FloatingIpAllocated': 'floating-ip',
  'ipam.PoolCreated': 'pool',
  'ipam.HypervisorRegistered': 'hypervisor',
  'ipam.GatewayDeviceCreated': 'gateway-device',
  'ipam.GatewayBindingCreated': 'gateway-binding',
};

interface Resource {
  kind: AuditKind;
  id: string;
  aggregateId: string;
}

/** IPAM as the service runs it, minus NATS: its executor and projection (the projection's fold) over the in-memory store. */
class Ipam {
  readonly store = new InMemoryEventStore();
  readonly projection = new Projection<IpamState, IpamEvent>({
    store: this.store,
    logger: createLogger('test', 'silent'),
    subject: eventFilter(IPAM_CONTEXT),
    initial: initialState(),
    decode: (event) => ipamEvents.decode(event),
    evolve: foldIpam,
  });
  private readonly executor = new Executor<IpamState, NewIpamEvent>({
    store: this.store,
    projection: this.projection,
    context: IPAM_CONTEXT,
    encode: (type, data) => ipamEvents.encode(type, data),
  });
  readonly resources = new Map<string, Resource>();
  private step = 0;

  get state(): IpamState {
    return this.projection.state;
  }

  command<K extends IpamCommandName>(name: K, input: IpamCommandInput<K>, caller: Caller): Promise<void> {
    const decide = deciders[name] as (s: IpamState, c: unknown, ctx: { caller: Caller; policy: typeof defaultPolicy }) => Decision;
    return this.execute((s, c) => decide(s, ipamContract.commands[name].request.parse(input), { caller: c, policy: defaultPolicy }), caller);
  }

  /** Decide on the projection's state and write, as the executor does; a refusal writes nothing and the sequence goes on. */
  async execute(decide: (s: IpamState, caller: Caller) => Decision, caller: Caller): Promise<void> {
    const requestId = `r${++this.step}`;
    const who = { ...caller, requestId };
    let decided: Decision | undefined;
    try {
      await this.executor.execute((s) => (decided = decide(s, who)), { caller: who, correlationId: requestId });
    } catch (err) {
      if (err instanceof StrataError || err instanceof ZodError) return;
      throw err;
    }
    if (decided?.kind !== 'append') return;
    const kind = CREATES[decided.event.type];
    // A resource that is an aggregate is its own; a network's is created on the cloud aggregate all the same (kinds.ts alsoIn).
    if (kind) this.resources.set(decided.resourceId, { kind, id: decided.resourceId, aggregateId: 'idField' in AUDIT_KINDS[kind] ? decided.aggregate.id : decided.resourceId });
  }

  async events(fromSeq = 1, toSeq?: number): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for await (const e of this.store.read({ fromSeq, ...(toSeq === undefined ? {} : { toSeq }) })) out.push(e);
    return out;
  }

  ids(kind: AuditKind): string[] {
    return [...this.resources.values()].filter((r) => r.kind === kind).map((r) => r.id);
  }
}

/** One step: an operation and the numbers that pick its target and arguments among what exists. */
const OPS = [
  'pool.create',
  'hypervisor.register',
  'hypervisor.deregister',
  'floatingip.create',
  'floatingip.delete',
  'pool.delete',
  'network.create',
  'network.update',
  'network.delete',
  'subnet.create',
  'subnet.update',
  'subnet.delete',
  'port.create',
  'port.update',
  'port.bind',
  'port.setAllowedAddressPairs',
  'garp',
  'port.delete',
  'router.create',
  'router.update',
  'router.addInterface',
  'router.removeInterface',
  'router.delete',
  'gatewaydevice.create',
  'gatewaydevice.delete',
  'gatewaybinding.create',
  'gatewaybinding.move',
  'gatewaybinding.delete',
] as const;
const step = fc.record({ op: fc.constantFrom(...OPS), a: fc.nat(), b: fc.nat(), t: fc.nat(1) });
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

/** A VRRP address: ports given it as a pair claim it by GARP, the owner moving between them. */
const VIP = '10.0.0.100';
const pick = (ids: string[], n: number): string => ids[n % Math.max(1, ids.length)] ?? 'none';

async function run(ipam: Ipam, { op, a, b, t }: Step): Promise<void> {
  const tenant = tenants[t]!;
  const network = pick(ipam.ids('network'), a);
  const subnet = pick(ipam.ids('subnet'), a);
  const port = pick(ipam.ids('port'), a);
  const router = pick(ipam.ids('router'), a);
  const host = pick(ipam.ids('hypervisor'), b);
  const pool = (purpose: string) => pick(ipam.ids('pool').filter((id) => ipam.state.cloud.pools[id]?.purpose === purpose), a);
  switch (op) {
    case 'pool.create':
      return b % 2
        ? ipam.command('pool.create', { name: `fip${b % 4}`, cidr: `203.0.113.${(b % 4) * 16}/28`, purpose: 'floating-ip' }, admin)
        : ipam.command('pool.create', { name: `hip${b % 4}`, cidr: `198.51.100.${(b % 4) * 16}/28`, purpose: 'host-ip' }, admin);
    case 'pool.delete':
      return ipam.command('pool.delete', { id: pick(ipam.ids('pool'), a) }, admin);
    case 'hypervisor.register':
      return ipam.command('hypervisor.register', { id: `hv${b % 4}`, vtepIp: `198.18.0.${(b % 4) + 1}`, hostPoolId: pool('host-ip') }, admin);
    case 'hypervisor.deregister':
      return ipam.command('hypervisor.deregister', { id: host }, admin);
    case 'floatingip.create':
      return ipam.command('floatingip.create', { tenant: tenant.tenant, poolId: pool('floating-ip') }, admin);
    case 'floatingip.delete':
      return ipam.command('floatingip.delete', { id: pick(ipam.ids('floating-ip'), a) }, admin);
    case 'network.create':
      return ipam.command('network.create', { name: `net${b % 5}`, routed: b % 7 === 0 }, tenant);
    case 'network.update':
      return ipam.command('network.update', b % 2 ? { id: network, name: `renamed${b % 3}` } : { id: network, mtu: 1400 + (b % 3) }, admin);
    case 'network.delete': {
      // Often cleared first (its ports deleted, its subnets left router-free), so the deletion, which ends its remaining subnets, happens.
      const n = ipam.state.networks[network];
      if (n && b % 3 !== 0) {
        for (const id of Object.keys(n.ports)) await ipam.command('port.delete', { id }, admin);
        for (const id of Object.keys(n.subnets)) {
          const r = ipam.state.subnetRouter[id];
          if (r) await ipam.command('router.removeInterface', { id: r, subnetId: id }, admin);
        }
      }
      await ipam.command('network.delete', { id: network }, admin);
      // The executor's second step, unless "a crash" left the network closed and its VNI held.
      if (b % 4 !== 0 && ipam.state.networks[network]?.closed) await ipam.execute((s) => finishNetworkDeletion(s, network), admin);
      return;
    }
    case 'subnet.create':
      return ipam.command('subnet.create', { networkId: network, name: `s${b % 3}`, cidr: `10.${b % 3}.0.0/24` }, tenant);
    case 'subnet.update':
      return ipam.command('subnet.update', b % 2 ? { id: subnet, name: `s-renamed${b % 3}` } : { id: subnet, dnsNameservers: [`10.9.9.${b % 3}`] }, admin);
    case 'subnet.delete':
      return ipam.command('subnet.delete', { id: subnet }, admin);
    case 'port.create':
      return ipam.command('port.create', { networkId: network, name: `p${b % 3}`, ...(b % 3 ? { hostId: host } : {}), ...(b % 2 ? { allowedAddressPairs: [{ ipAddress: VIP }] } : {}) }, tenant);
    case 'port.update':
      return ipam.command('port.update', b % 2 ? { id: port, name: `p-renamed${b % 3}` } : { id: port, adminStateUp: b % 4 === 0 }, admin);
    case 'port.bind':
      return ipam.command('port.bind', { id: port, hostId: b % 4 === 0 ? null : host }, admin);
    case 'port.setAllowedAddressPairs':
      return ipam.command('port.setAllowedAddressPairs', { id: port, allowedAddressPairs: b % 3 === 0 ? [] : [{ ipAddress: VIP }] }, admin);
    case 'garp': {
      // An agent's report that the port answers for its pair address: the owner event, when the port may own it.
      const p = ipam.state.networks[ipam.state.portNetwork[port] ?? '']?.ports[port];
      const pair = p?.allowedAddressPairs?.[0];
      if (!p?.hostId || !pair) return;
      const report = { hostId: p.hostId, portId: port, ip: pair.ipAddress, mac: pair.macAddress };
      if (judgeGarp(ipam.state, p.hostId, report).kind !== 'owner') return;
      return ipam.execute((s) => (judgeGarp(s, report.hostId, report) as Extract<GarpVerdict, { kind: 'owner' }>).decision, { ...admin, actor: report.hostId });
    }
    case 'port.delete':
      return ipam.command('port.delete', { id: port }, admin);
    case 'router.create':
      return ipam.command('router.create', { name: `r${b % 3}` }, tenant);
    case 'router.update':
      return ipam.command('router.update', b % 2 ? { id: router, name: `r-renamed${b % 3}` } : { id: router, description: `d${b % 3}` }, admin);
    case 'router.addInterface':
      return ipam.command('router.addInterface', { id: router, subnetId: subnet }, admin);
    case 'router.removeInterface':
      return ipam.command('router.removeInterface', { id: router, subnetId: subnet }, admin);
    case 'router.delete':
      return ipam.command('router.delete', { id: router }, admin);
    case 'gatewaydevice.create':
      return b % 2
        ? ipam.command('gatewaydevice.create', { name: `gw${b % 3}`, kind: 'host', hostId: host, ports: [{ name: 'eth1', tenant: tenant.tenant }, { name: 'eth2', tenant: null }] }, admin)
        : ipam.command('gatewaydevice.create', { name: `tor${b % 3}`, kind: 'evpn', vtepIp: `198.18.1.${b % 4}`, bgp: { address: `198.18.1.${b % 4}`, remoteAs: 65000 }, ports: [{ name: 'eth1', tenant: tenant.tenant }, { name: 'eth2', tenant: null }] }, admin);
    case 'gatewaydevice.delete':
      return ipam.command('gatewaydevice.delete', { id: pick(ipam.ids('gateway-device'), b) }, admin);
    case 'gatewaybinding.create':
      return ipam.command('gatewaybinding.create', { deviceId: pick(ipam.ids('gateway-device'), b), port: b % 2 ? 'eth1' : 'eth2', vlan: 1 + (b % 3), networkId: network }, b % 2 ? tenant : admin);
    case 'gatewaybinding.move':
      return ipam.command('gatewaybinding.move', { id: pick(ipam.ids('gateway-binding'), a), deviceId: pick(ipam.ids('gateway-device'), b), port: 'eth2', vlan: 1 + (b % 3) }, admin);
    case 'gatewaybinding.delete':
      return ipam.command('gatewaybinding.delete', { id: pick(ipam.ids('gateway-binding'), a) }, admin);
  }
}

/** The view at `seq` from a history: its last version at or before it (null before the first and after deletion). */
const viewAt = (h: ResourceHistoryReply | null, seq: number): unknown => h?.versions.filter((v) => v.event.seq <= seq).at(-1)?.view ?? null;

async function history(ipam: Ipam, r: Resource, toSeq: number): Promise<ResourceHistoryReply | null> {
  try {
    return await resourceHistory(ipamHistorySource(ipam.store), admin, { ...r, toSeq });
  } catch (err) {
    if (err instanceof StrataError && err.code === 'NOT_FOUND') return null;
    throw err;
  }
}

/** The seed resource set every run starts from, so short sequences still touch every kind. */
const SEED: Step[] = [
  { op: 'pool.create', a: 0, b: 0, t: 0 },
  { op: 'pool.create', a: 0, b: 1, t: 0 },
  { op: 'hypervisor.register', a: 0, b: 1, t: 0 },
  { op: 'hypervisor.register', a: 0, b: 2, t: 0 },
  { op: 'network.create', a: 0, b: 1, t: 0 },
  { op: 'subnet.create', a: 0, b: 0, t: 0 },
  { op: 'port.create', a: 0, b: 1, t: 0 },
  { op: 'port.create', a: 0, b: 5, t: 0 },
  { op: 'router.create', a: 0, b: 0, t: 0 },
  { op: 'floatingip.create', a: 1, b: 0, t: 1 },
  { op: 'gatewaydevice.create', a: 0, b: 1, t: 0 },
  { op: 'gatewaybinding.create', a: 0, b: 1, t: 0 },
];

describe('IPAM history: a resource at S from its aggregate alone equals the full fold at S', () => {
  it('for random command sequences, every position and every resource', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 70, size: 'max' }), fc.nat(), async (steps, sample) => {
        const ipam = new Ipam();
        await ipam.projection.start();
        for (const s of [...SEED, ...steps]) await run(ipam, s);
        await ipam.projection.stop();
        const log = await ipam.events();
        const last = log.length;
        const resources = [...ipam.resources.values()];

        // Each resource's aggregate is where AUDIT_KINDS' idField finds it (the audit service locates resources so).
        for (const r of resources) {
          const spec = AUDIT_KINDS[r.kind];
          if (!('idField' in spec)) continue;
          const named = log.filter((e) => e.aggregate.type === spec.aggregate && (e.data as Record<string, unknown>)[spec.idField] === r.id);
          expect(new Set(named.map((e) => e.aggregate.id)), `${r.kind} ${r.id}`).toEqual(new Set([r.aggregateId]));
        }

        const full = new Map<string, ResourceHistoryReply | null>();
        for (const r of resources) full.set(r.id, await history(ipam, r, last));

        // The full fold, position by position, with the projection's fold (at the end, the projection's state).
        const state = initialState();
        for (const event of log) {
          foldIpam(state, ipamEvents.decode(event));
          for (const r of resources) {
            const expected = ipamAuditView(state, r.kind, r.id)?.view ?? null;
            expect(viewAt(full.get(r.id)!, event.seq), `${r.kind} ${r.id} at ${event.seq}`).toEqual(expected);
          }
        }
        expect(state).toEqual(ipam.state);

        // Asked at an earlier position, the answer is the full history cut there, reading that aggregate's events alone.
        const toSeq = (sample % last) + 1;
        for (const r of resources) {
          const h = await history(ipam, r, toSeq);
          const cut = full.get(r.id)?.versions.filter((v) => v.event.seq <= toSeq) ?? [];
          expect(h?.versions ?? [], `${r.kind} ${r.id} to ${toSeq}`).toEqual(cut);
          if (!h) continue;
          const spec = AUDIT_KINDS[r.kind];
          const read = log.filter(
            (e) =>
              e.seq <= toSeq &&
              ((e.aggregate.type === spec.aggregate && e.aggregate.id === r.aggregateId) || ('alsoIn' in spec && e.aggregate.type === spec.alsoIn.aggregate)),
          );
          expect(h.eventsRead).toBe(read.length);
          expect(h.unreadable).toEqual([]);
        }
      }),
      { numRuns: 40 },
    );
  });
});
