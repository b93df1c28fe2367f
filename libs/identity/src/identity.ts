/**
 * Who is calling, as a validated Keystone token says (docs/architecture.md,
 * "Identity"). Both front doors use it: the Neutron REST service
 * (`X-Auth-Token`) and the gRPC API (`authorization: Bearer <token>`, beside
 * its static tokens).
 */

/** Strata's three roles; Keystone's role names map onto them (role-map.ts). */
export type Role = 'admin' | 'member' | 'reader';

export interface Identity {
  /** Keystone user id and name: the actor of every event the call causes is `keystone:<user name>`. */
  userId: string;
  userName: string;
  /** The token's project: a Keystone project is a Strata tenant (its id, 32 hex digits, is the tenant id). */
  projectId: string;
  projectName: string;
  /** The strongest Strata role the token's Keystone roles give (admin > member > reader). */
  role: Role;
  /** Keystone's own role names on the token, as given. */
  keystoneRoles: string[];
  /** When the token stops being valid (ms since epoch): a cached validation ends then at the latest. */
  expiresAt: number;
  /** Keystone's audit id of the token (revocation events name it). */
  auditId: string;
}

/**
 * Validates a token: answers the identity, or throws UnauthenticatedError
 * (401: unknown, expired, revoked, not project-scoped), PermissionDeniedError
 * (403: valid, but none of its roles is admin, member or reader), or an
 * UNAVAILABLE StrataError (Keystone cannot be asked).
 */
export interface TokenValidator {
  validate(token: string): Promise<Identity>;
}
