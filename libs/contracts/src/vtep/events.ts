/**
 * The vtep controller's events (services/vtep): what an `ovsdb` gateway
 * device's hardware_vtep database says sits behind it, on one aggregate per
 * device, `vtep.device.<deviceId>`. The schemas are the shared ones of
 * physical.ts (the BGP gateway records the same for `evpn` switches), so
 * hostview derives RemoteEndpoints and flood-list entries from both alike.
 *
 *   PhysicalMacLearned / Withdrawn   a row of the switch's Ucast_Macs_Local
 *   PhysicalVtepLearned / Withdrawn  a locator of its Mcast_Macs_Local "unknown-dst"
 *
 * The constants are prefixed `Vtep…` (the BGP gateway's events of the same
 * names are exported beside them); the event types are `vtep.…`.
 *
 * Changing a schema: bump `version`, add an upcaster from the old one.
 */
import { defineEvent, EventRegistry } from '@strata/eventlog';
import { PhysicalMac, PhysicalVtep } from '../physical.js';

export const VTEP_CONTEXT = 'vtep';
export const vtepDeviceAggregate = (deviceId: string) => ({ context: VTEP_CONTEXT, type: 'device', id: deviceId }) as const;

export const VtepPhysicalMacLearned = defineEvent({ type: 'vtep.PhysicalMacLearned', version: 1, schema: PhysicalMac });
export const VtepPhysicalMacWithdrawn = defineEvent({ type: 'vtep.PhysicalMacWithdrawn', version: 1, schema: PhysicalMac });
export const VtepPhysicalVtepLearned = defineEvent({ type: 'vtep.PhysicalVtepLearned', version: 1, schema: PhysicalVtep });
export const VtepPhysicalVtepWithdrawn = defineEvent({ type: 'vtep.PhysicalVtepWithdrawn', version: 1, schema: PhysicalVtep });

export const vtepEvents = new EventRegistry([VtepPhysicalMacLearned, VtepPhysicalMacWithdrawn, VtepPhysicalVtepLearned, VtepPhysicalVtepWithdrawn] as const);
export type VtepEvent = ReturnType<typeof vtepEvents.decode>;
