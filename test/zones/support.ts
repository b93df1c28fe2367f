/** What the availability-zone e2e tests share: two zones (az1: hv1, hv2; az2: hv3), a tenant's segment stretched across them, a host's view keys. */
import { hostviewBucket } from '@strata/contracts';
import { stretchedSide, type Principal, type StretchedSide, type Vm, type Zone, type ZoneSpec } from '@strata/lab';
import type { NatsConnection } from 'nats';

export const CIDR = '10.0.0.0/24';
/** Disjoint allocation pools of the one subnet in each zone: az1's VMs are .10 on, az2's .100 on. */
export const POOLS = { az1: { start: '10.0.0.10', end: '10.0.0.99' }, az2: { start: '10.0.0.100', end: '10.0.0.199' } } as const;

export const TWO_ZONES: ZoneSpec[] = [
  { name: 'az1', id: 1, hosts: [1, 2], vnis: { min: 10_000, max: 19_999 } },
  { name: 'az2', id: 2, hosts: [3], vnis: { min: 20_000, max: 29_999 } },
];

export type Segment = StretchedSide;

/** The tenant's stretched segment in one zone: created by the tenant (no `vni`), or joined by an admin with the other zone's VNI; the shared subnet with the zone's pool. */
export function stretchedSegment(zone: Zone, who: Principal, vni?: number): Promise<Segment> {
  return stretchedSide(zone, who, { name: 'stretched', cidr: CIDR, gatewayIp: '10.0.0.1', pool: POOLS[zone.spec.name as keyof typeof POOLS] }, vni);
}

/** A VM of the tenant on the segment in `zone`, on `hostId`, its port in `groupIds`, addressed statically. */
export async function segmentVm(zone: Zone, who: Principal, s: Segment, name: string, hostId: string, groupIds: string[]): Promise<Vm> {
  const port = await zone.lab.ipam.command('port.create', { networkId: s.net.id, name, hostId }, who);
  await zone.lab.secgroup.command('port.setGroups', { portId: port.id, groupIds }, who);
  const vm = await zone.lab.addVm(name, port, hostId);
  await vm.configureStatic({ [s.subnet.id]: { prefixLength: 24, gatewayIp: s.subnet.gatewayIp, mtu: s.net.mtu } });
  return vm;
}

/** The keys of a host's view, sorted (hostview's bucket in the zone `nc` is connected to). */
export async function hostviewKeys(nc: NatsConnection, hostId: string): Promise<string[]> {
  const kv = await nc.jetstream().views.kv(hostviewBucket(hostId), { bindOnly: true });
  const out: string[] = [];
  for await (const key of await kv.keys()) out.push(key);
  return out.sort();
}
