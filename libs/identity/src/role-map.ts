/**
 * Keystone role names → Strata's role. Keystone's default roles are
 * `admin` ⊃ `member` ⊃ `reader` (bootstrap makes the implications; a token
 * lists the implied roles too), so the strongest one named decides. Any
 * other role (e.g. `service`) gives no access to Strata.
 */
import type { Role } from './identity.js';

const STRENGTH: readonly Role[] = ['admin', 'member', 'reader'];

/** The strongest Strata role among `keystoneRoles`, or undefined when none of them is one. */
export function strataRole(keystoneRoles: readonly string[]): Role | undefined {
  const names = new Set(keystoneRoles.map((r) => r.toLowerCase()));
  return STRENGTH.find((role) => names.has(role));
}

/** Whether `role` may perform writes (creates, updates, deletes, actions): everyone but a reader. */
export function mayWrite(role: Role): boolean {
  return role !== 'reader';
}
