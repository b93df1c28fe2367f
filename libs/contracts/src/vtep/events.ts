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
 * Changing a schema: bump `version`, add an upcaster from the old one.
 */
import { defineEvent, EventRegistry } from '@strata/eventlog';
import { PhysicalMac, PhysicalVtep } from '../physical.js';

export const VTEP_CONTEXT = 'vtep';
export const vtepDeviceAggregate = (deviceId: string) => ({ context: VTEP_CONTEXT, type: 'device', id: deviceId }) as const;

export const PhysicalMacLearned = defineEvent({ type: 'vtep.PhysicalMacLearned', version: 1, schema: PhysicalMac });
export const PhysicalMacWithdrawn = defineEvent({ type: 'vtep.PhysicalMacWithdrawn', version: 1, schema: PhysicalMac });
export const PhysicalVtepLearned = defineEvent({ type: 'vtep.PhysicalVtepLearned', version: 1, schema: PhysicalVtep });
export const PhysicalVtepWithdrawn = defineEvent({ type: 'vtep.PhysicalVtepWithdrawn', version: 1, schema: PhysicalVtep });

export const vtepEvents = new EventRegistry([PhysicalMacLearned, PhysicalMacWithdrawn, PhysicalVtepLearned, PhysicalVtepWithdrawn] as const);
export type VtepEvent = ReturnType<typeof vtepEvents.decode>;
