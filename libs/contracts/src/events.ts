/**
 * Every context's event registry, by context: what the event stores check
 * each append against (a service cannot write an event its own registry, or
 * any reader's, would refuse). One value, used by every writer.
 */
import { EventCatalog } from '@strata/eventlog';
import { BGP_CONTEXT, bgpEvents } from './bgp/index.js';
import { CHAINING_CONTEXT, chainingEvents } from './chaining/events.js';
import { STATUS_CONTEXT, statusEvents } from './status/events.js';
import { IPAM_CONTEXT, ipamEvents } from './ipam/events.js';
import { NAT_CONTEXT, natEvents } from './nat/index.js';
import { SECGROUP_CONTEXT, secgroupEvents } from './secgroup/index.js';
import { VTEP_CONTEXT, vtepEvents } from './vtep/index.js';

export const domainEvents = new EventCatalog({
  [IPAM_CONTEXT]: ipamEvents,
  [SECGROUP_CONTEXT]: secgroupEvents,
  [NAT_CONTEXT]: natEvents,
  [BGP_CONTEXT]: bgpEvents,
  [CHAINING_CONTEXT]: chainingEvents,
  [STATUS_CONTEXT]: statusEvents,
  [VTEP_CONTEXT]: vtepEvents,
});
