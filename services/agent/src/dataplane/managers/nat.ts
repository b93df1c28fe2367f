/**
 * Floating IPs, external gateways (PNAT), routed networks and announced
 * prefixes (core/nat.ts): external links, transit routes and `ip strata`
 * tables, in the hypervisor and in the domain namespaces the overlay made.
 * All in the shared kernel model.
 */
import { desiredNat } from '../../core/nat.js';
import type { Manager } from '../manager.js';

export const nat: Manager = {
  name: 'nat',
  desired: (view, ctx) => ({ kernel: desiredNat(view, ctx.nsPrefix, ctx.kernel.namespaces) }),
};
