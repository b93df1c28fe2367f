/**
 * A resource as an audit shows it at a point: the view IPAM's own queries
 * answer with (read as an admin), taken from a state folded from the
 * resource's aggregate's events alone (libs/service-kit history.ts).
 *
 * Every view below depends only on its aggregate's events (plus, for a
 * network's resources, the network's creation and deletion on the cloud
 * aggregate: `alsoIn` in contracts audit/kinds.ts), so no field has to be
 * left out: a network's VNI, name and MTU come from NetworkCreated on the
 * cloud aggregate and NetworkUpdated on its own; a port's `ownedAddresses`
 * from AddressPairOwnerChanged on its network; a router's interfaces from
 * its own events (they name subnet and network, nothing is looked up); a
 * pool's `allocated` from the cloud aggregate's allocations, hypervisor
 * registrations included. The property test (history.unit.spec.ts) checks
 * each view against the full fold at every position.
 */
import { NotFoundError } from '@strata/errors';
import type { AuditKind } from '@strata/contracts';
import type { OwnedView } from '@strata/service-kit';
import { SYSTEM_TENANT, type Caller } from './decide/types.js';
import * as q from './queries.js';
import * as gq from './gateway-queries.js';
import type { IpamState } from './state.js';

const auditor: Caller = { actor: 'ipam-audit', tenant: SYSTEM_TENANT, admin: true, requestId: 'audit', at: '1970-01-01T00:00:00.000Z' };

/** The query's answer, or null where it answers NOT_FOUND (the resource does not exist in that state). */
function found<T>(read: () => T): T | null {
  try {
    return read();
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

const owned = (v: { tenant: string } | null): OwnedView | null => (v ? { tenant: v.tenant, view: { ...v } } : null);
const operators = (v: object | null): OwnedView | null => (v ? { tenant: SYSTEM_TENANT, view: { ...v } } : null);

export function ipamAuditView(s: IpamState, kind: AuditKind, id: string): OwnedView | null {
  switch (kind) {
    case 'network':
      return owned(found(() => q.getNetwork(s, auditor, { id })));
    case 'subnet':
      return owned(found(() => q.getSubnet(s, auditor, { id })));
    case 'port':
      return owned(found(() => q.getPort(s, auditor, { id })));
    case 'router':
      return owned(found(() => q.getRouter(s, auditor, { id })));
    case 'floating-ip':
      return owned(found(() => q.getFloatingIp(s, auditor, { id })));
    case 'pool':
      return operators(found(() => q.getPool(s, auditor, { id })));
    case 'hypervisor':
      return operators(found(() => q.getHypervisor(s, auditor, { id })));
    case 'gateway-device':
      return operators(found(() => gq.getGatewayDevice(s, auditor, { id })));
    case 'gateway-binding':
      return owned(found(() => gq.getGatewayBinding(s, auditor, { id })));
    default:
      // resourceHistory refuses another context's kind before it folds anything.
      throw new Error(`${kind} is not an IPAM resource`);
  }
}
