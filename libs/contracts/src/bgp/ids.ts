import { uuidFromHash } from '@strata/eventlog';

/** The `bgp.route.<id>` aggregate of what `peer` announced for `prefix`: every gateway instance derives the same id. */
export const routeAggregateId = (peer: string, prefix: string): string => uuidFromHash(`bgp-route:${peer}:${prefix}`);

/** The `bgp.session.<id>` aggregate of one gateway instance's session with one appliance (written only by that instance). */
export const sessionLimitId = (gateway: string, peer: string): string => uuidFromHash(`bgp-session:${gateway}:${peer}`);
