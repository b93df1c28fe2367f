/**
 * Which application prefixes an appliance may announce. An assignment names
 * a device id, and it is made for the tenant that owns the application
 * prefix (the assignment's tenant). A device id is only a string any tenant
 * can put on its ports, so an appliance is the pair (tenant, device id): a
 * port is entitled to an assignment only when its network belongs to the
 * assignment's tenant (issue 12, defect 2).
 */
import { parsePrefix, type Prefix } from '@strata/netaddr';
import type { BgpState } from './state.js';

/** The application prefixes assigned to `deviceId` of `tenant`, parsed. */
export function assignedTo(state: BgpState, tenant: string, deviceId: string): Prefix[] {
  if (deviceId === '') return [];
  return Object.values(state.config.assignments)
    .filter((a) => a.deviceId === deviceId && a.tenant === tenant)
    .map((a) => parsePrefix(a.prefix));
}

export const isEntitled = (state: BgpState, tenant: string, deviceId: string): boolean => assignedTo(state, tenant, deviceId).length > 0;
