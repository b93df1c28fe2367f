/**
 * The gateway's auditable resources (the `history` query, @strata/service-kit's
 * `resourceHistory`): fabric peers and appliance peer groups, each exactly
 * as its `get` query shows an admin (queries.ts), from a state folded from
 * the `bgp.config.default` aggregate's events alone.
 *
 * Sound because a peer's view is made by its Peer* events only and a group's
 * by its PeerGroup* events only, all on the config aggregate (the only
 * events there naming `peerId` / `groupId`, the kinds' id fields); neither
 * reads what the gateway follows of IPAM or NAT, nor the settings or
 * assignments kept in the same aggregate. Both are the cloud's (`_system`),
 * so only an admin may audit them.
 */
import type { AuditKind } from '@strata/contracts';
import type { Caller, OwnedView } from '@strata/service-kit';
import { SYSTEM_TENANT } from './decide/types.js';
import { getPeer, getPeerGroup } from './queries.js';
import type { BgpState } from './state.js';

/** The queries are admin-only; the audit's own scoping (tenant → NOT_FOUND) is resourceHistory's. */
const AUDITOR: Caller = { actor: 'audit', tenant: SYSTEM_TENANT, admin: true, requestId: '', at: '' };

// A copy: a version must not change when the fold later changes the state it was taken from.
const owned = (view: object): OwnedView => ({ tenant: SYSTEM_TENANT, view: structuredClone(view) as Record<string, unknown> });

/** The resource of `kind` in a gateway state, as its `get` query shows it; null when it does not exist there. */
export function bgpResourceView(s: BgpState, kind: AuditKind, id: string): OwnedView | null {
  switch (kind) {
    case 'bgp-peer':
      return s.config.peers[id] ? owned(getPeer(s, AUDITOR, { id })) : null;
    case 'bgp-peer-group':
      return s.config.groups[id] ? owned(getPeerGroup(s, AUDITOR, { id })) : null;
    default:
      return null;
  }
}
