/**
 * What nat's `history` answer shows of each of its audit kinds in a state
 * (libs/service-kit/src/history.ts folds the resource's nat aggregate with
 * `applyStored` from the empty state and takes this view after each event).
 *
 * A floating IP and a router are IPAM's; nat's part of them is the
 * association and the gateway, written to `nat.floatingip.<id>` and
 * `nat.router.<id>`. Each view shows that part only, so folding the nat
 * aggregate alone gives the view the full fold of the log gives:
 * - `floating-ip-association`: as `floatingip.get` shows it (floating IP,
 *   tenant, port, fixed IP, network) without `address` and `hostId`, which
 *   are IPAM's (the address is the `floating-ip` kind's history; the host is
 *   where IPAM last bound the port), and without whether IPAM still holds
 *   the floating IP. Exists from nat's first event about it (an IPAM
 *   allocation nat never wrote about has no history here).
 * - `router-gateway`: as `router.get` shows it (router, tenant, external
 *   gateway), from nat's first event about the router, without whether IPAM
 *   still has the router.
 */
import type { AuditKind } from '@strata/contracts';
import type { OwnedView } from '@strata/service-kit';
import { floatingIpView, routerView } from './queries.js';
import type { NatState } from './state.js';

export function auditView(state: NatState, kind: AuditKind, id: string): OwnedView | null {
  switch (kind) {
    case 'floating-ip-association': {
      const f = state.floatingIps[id];
      if (!f || f.version === 0) return null;
      const { address: _ipamAddress, hostId: _ipamHost, ...view } = floatingIpView(state, f);
      return { tenant: f.tenant, view };
    }
    case 'router-gateway': {
      const r = state.routers[id];
      return r && r.version > 0 ? { tenant: r.tenant, view: { ...routerView(r) } } : null;
    }
    default:
      return null;
  }
}
