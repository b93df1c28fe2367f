/**
 * What a gateway device learned on its physical side, one schema for every
 * context that learns it (docs/architecture.md, "Reaching the physical
 * world"): the BGP gateway from an `evpn` switch's type-2/3 routes, the vtep
 * controller from an `ovsdb` switch's `Ucast_Macs_Local`. Each context
 * defines its own events (`PhysicalMacLearned`/`PhysicalMacWithdrawn`,
 * `PhysicalVtepLearned`/`PhysicalVtepWithdrawn`) with these schemas;
 * hostview turns them into RemoteEndpoints and flood-list entries.
 */
import { z } from 'zod';

/** A MAC (and, when the device knows it, its IP) behind `vtep` of gateway device `deviceId`, on the segment `vni`. */
export const PhysicalMac = z.object({
  deviceId: z.string(),
  vni: z.number().int(),
  mac: z.string(),
  ip: z.string().optional(),
  vtep: z.string(),
});
export type PhysicalMac = z.infer<typeof PhysicalMac>;

/**
 * A MAC another availability zone announces (the BGP gateway's
 * `bgp.PhysicalMac*`, device `zone-<name>`), with the federation tags of
 * its port's security groups there (docs/architecture.md, "Security groups
 * across zones"): sorted, each once, left out when none. A switch's records
 * never carry any.
 */
export const ZoneMac = PhysicalMac.extend({ groupTags: z.array(z.number().int().min(1).max(65535)).optional() });
export type ZoneMac = z.infer<typeof ZoneMac>;

/** Gateway device `deviceId` floods the segment `vni` to and from `vtep` (an EVPN type-3 route, an OVSDB Mcast_Macs_Local unknown-dst). */
export const PhysicalVtep = z.object({
  deviceId: z.string(),
  vni: z.number().int(),
  vtep: z.string(),
});
export type PhysicalVtep = z.infer<typeof PhysicalVtep>;
