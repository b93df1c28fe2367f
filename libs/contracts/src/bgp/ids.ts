import { uuidFromHash } from '@strata/eventlog';

/** The `bgp.route.<id>` aggregate of what `peer` announced for `prefix`: every gateway instance derives the same id. */
export const routeAggregateId = (peer: string, prefix: string): string => uuidFromHash(`bgp-route:${peer}:${prefix}`);
