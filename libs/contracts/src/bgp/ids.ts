import { uuidFromHash } from '@strata/eventlog';

/** The `bgp.route.<id>` aggregate of what `peer` announced for `prefix`: every gateway instance derives the same id. */
export const routeAggregateId = (peer: string, prefix: string): string => uuidFromHash(`bgp-route:${peer}:${prefix}`);

/** The `bgp.session.<id>` aggregate of one gateway instance's session with one appliance (written only by that instance). */
export const sessionLimitId = (gateway: string, peer: string): string => uuidFromHash(`bgp-session:${gateway}:${peer}`);

/** The `bgp.physical.<id>` aggregate of one MAC (with one IP, or none) a gateway device announces on a VNI. */
export const physicalMacId = (deviceId: string, vni: number, mac: string, ip: string | undefined): string => uuidFromHash(`bgp-physical-mac:${deviceId}:${vni}:${mac}:${ip ?? ''}`);

/** The `bgp.physical.<id>` aggregate of one flood VTEP a gateway device announces on a VNI. */
export const physicalVtepId = (deviceId: string, vni: number, vtep: string): string => uuidFromHash(`bgp-physical-vtep:${deviceId}:${vni}:${vtep}`);
