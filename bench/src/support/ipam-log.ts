/**
 * A synthetic but valid IPAM event log: per network, NetworkCreated on the
 * cloud aggregate, one /20 SubnetCreated and PER_NETWORK - 2 PortCreated
 * (distinct ids, addresses, MACs) on the network aggregate, with the envelope
 * libs/eventlog writes. Every event passes ipamEvents.decode (the cold-start
 * benchmark decodes all of them and checks IPAM's state digest against an
 * in-process replay).
 */
import type { JetStreamClient } from 'nats';
import { CLOUD_AGGREGATE, networkAggregate } from '@strata/contracts';
import { aggregateSubject } from '@strata/eventlog';
import { fmt, log } from './common.js';

export const PER_NETWORK = 1_000;
const PORTS = PER_NETWORK - 2;

const enc = new TextEncoder();
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
/** Deterministic lowercase UUIDs (the contracts' Id format), one namespace per kind. */
const uuid = (kind: string, n: number): string => `${kind}-0000-4000-8000-${hex(n, 12)}`;
const ipv4 = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
const OCCURRED = '2026-01-01T00:00:00.000Z';

/** Envelope fields in the order libs/eventlog writes them. */
function envelope(id: string, type: string, aggregate: { context: string; type: string; id: string }, tenant: string, data: unknown): Uint8Array {
  return enc.encode(
    JSON.stringify({ id, type, version: 1, aggregate, tenant, actor: `${tenant}-user`, correlationId: id, causationId: id, occurredAt: OCCURRED, data }),
  );
}

/** Which hypervisor port i of network n is bound to (default: none). */
export type HostOf = (n: number, i: number) => string | null;

/** Ids of the generated resources: network n, and port i (0 ≤ i < PER_NETWORK - 2) of network n. */
export const networkIdOf = (n: number): string => uuid('aaaaaaaa', n);
export const portIdOf = (n: number, i: number): string => uuid('cccccccc', n * PER_NETWORK + i);

/** Events of network n, in log order, as [subject, payload]. */
export function* networkEvents(n: number, hostOf: HostOf = () => null): Generator<[string, Uint8Array]> {
  const networkId = networkIdOf(n);
  const subnetId = uuid('bbbbbbbb', n);
  const tenant = `tenant-${n % 50}`;
  const base = (10 << 24) + n * 4096; // 10.x.y.0/20, distinct per network
  const net = networkAggregate(networkId);
  const netSubject = aggregateSubject(net);
  yield [
    aggregateSubject(CLOUD_AGGREGATE),
    envelope(networkId, 'ipam.NetworkCreated', CLOUD_AGGREGATE, tenant, { networkId, name: `net-${n}`, vni: 4096 + n, mtu: 1450, routed: false }),
  ];
  yield [
    netSubject,
    envelope(subnetId, 'ipam.SubnetCreated', net, tenant, {
      subnetId,
      name: `subnet-${n}`,
      ipVersion: 4,
      cidr: `${ipv4(base)}/20`,
      gatewayIp: ipv4(base + 1),
      allocationPools: [{ start: ipv4(base + 2), end: ipv4(base + 4094) }],
      enableDhcp: true,
    }),
  ];
  for (let i = 0; i < PORTS; i++) {
    const portId = portIdOf(n, i);
    yield [
      netSubject,
      envelope(portId, 'ipam.PortCreated', net, tenant, {
        portId,
        name: `vm-${n}-${i}`,
        mac: `02:53:54:${hex((i >> 16) & 255, 2)}:${hex((i >> 8) & 255, 2)}:${hex(i & 255, 2)}`,
        fixedIps: [{ subnetId, ip: ipv4(base + 2 + i) }],
        hostId: hostOf(n, i),
        deviceId: `vm-${n}-${i}`,
      }),
    ];
  }
}

/** `count` valid PortUpdated events renaming port i of network n (`renamed-1`, `renamed-2`, …), as [subject, payload]. */
export function* portRenames(n: number, i: number, count: number): Generator<[string, Uint8Array]> {
  const portId = portIdOf(n, i);
  const net = networkAggregate(networkIdOf(n));
  const subject = aggregateSubject(net);
  for (let k = 1; k <= count; k++) {
    yield [subject, envelope(uuid('dddddddd', k), 'ipam.PortUpdated', net, `tenant-${n % 50}`, { portId, name: `renamed-${k}` })];
  }
}

/**
 * Publish networks × PER_NETWORK valid IPAM events straight into the event
 * stream (which must exist), at most `inFlight` unacknowledged publishes.
 */
export async function generateIpamLog(js: JetStreamClient, networks: number, inFlight: number, hostOf?: HostOf): Promise<{ seconds: number; bytes: number }> {
  const EVENTS = networks * PER_NETWORK;
  const t0 = performance.now();
  let bytes = 0;
  let pending = 0;
  let done = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const settle = (): void => {
    pending--;
    done++;
    const w = wake;
    wake = undefined;
    w?.();
  };
  for (let n = 0; n < networks; n++) {
    // The cloud aggregate's event first, acknowledged, so every network event follows its NetworkCreated in the log.
    const events = networkEvents(n, hostOf);
    const first = events.next().value as [string, Uint8Array];
    bytes += first[1].length;
    await js.publish(first[0], first[1]);
    done++;
    // Within one subject, async publishes from one connection are stored in send order.
    for (const [subject, payload] of events) {
      if (failure !== undefined) throw failure;
      while (pending >= inFlight) await new Promise<void>((r) => (wake = r));
      pending++;
      bytes += payload.length;
      js.publish(subject, payload).then(settle, (err: unknown) => {
        failure ??= err;
        settle();
      });
    }
    if (n % 100 === 99) log(`generated ${fmt(done + pending)} / ${fmt(EVENTS)}`);
  }
  while (pending > 0) await new Promise<void>((r) => (wake = r));
  if (failure !== undefined) throw failure;
  return { seconds: (performance.now() - t0) / 1000, bytes };
}


/** HypervisorRegistered for `hosts` hypervisors `hv-<i>` (VTEP 198.18.x.y), published and acknowledged one by one. */
export async function registerHosts(js: JetStreamClient, hosts: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < hosts; i++) {
    const hostId = `hv-${i}`;
    const data = { hostId, vtepIp: `198.18.${i >> 8}.${(i & 255) + 1}`, publicIp: `203.0.113.${(i % 250) + 1}`, hostPoolId: uuid('dddddddd', 0) };
    await js.publish(aggregateSubject(CLOUD_AGGREGATE), envelope(uuid('eeeeeeee', i), 'ipam.HypervisorRegistered', CLOUD_AGGREGATE, '_system', data));
    ids.push(hostId);
  }
  return ids;
}
