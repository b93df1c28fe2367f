/**
 * Keystone's answer to GET /v3/auth/tokens, turned into Strata's Identity
 * (or a refusal) and the facts its revocation events are matched against.
 */
import { PermissionDeniedError, UnauthenticatedError } from '@strata/errors';
import type { Identity } from './identity.js';
import type { TokenFacts } from './revocation.js';
import { strataRole } from './role-map.js';

import { z } from 'zod';

const ref = z.object({ id: z.string().min(1) });
const named = z.object({ id: z.string().min(1), name: z.string() });
const time = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'not an ISO 8601 time' });

const tokenBodySchema = z.object({
  token: z.object({
    user: named.extend({ domain: ref.optional() }),
    project: named.extend({ domain: ref.optional() }).optional(),
    domain: ref.optional(),
    system: z.unknown().optional(),
    roles: z.array(named).default([]),
    expires_at: time,
    issued_at: time,
    audit_ids: z.array(z.string().min(1)).min(1),
    'OS-TRUST:trust': z.object({ id: z.string(), trustor_user: ref, trustee_user: ref }).optional(),
    'OS-OAUTH1': z.object({ consumer_id: z.string() }).optional(),
  }),
});

export interface ValidatedToken {
  identity: Identity;
  facts: TokenFacts;
}

/** Parse Keystone's validation body; a token without a project scope or without a Strata role is refused. */
export function readValidatedToken(body: unknown): ValidatedToken {
  const parsed = tokenBodySchema.safeParse(body);
  if (!parsed.success) throw new Error(`Keystone's token validation answer is not what Keystone 3 sends: ${parsed.error.message}`);
  const t = parsed.data.token;
  const expiresAt = Date.parse(t.expires_at);
  const facts: TokenFacts = {
    userId: t.user.id,
    identityDomainId: t.user.domain?.id ?? null,
    projectId: t.project?.id ?? null,
    // As Keystone's build_token_values: a project-scoped token has no assignment domain (see TokenFacts).
    assignmentDomainId: t.domain?.id ?? null,
    auditId: t.audit_ids[0]!,
    auditChainId: t.audit_ids[1] ?? null,
    issuedAt: Date.parse(t.issued_at),
    expiresAt,
    roleIds: t.roles.map((r) => r.id),
    trustId: t['OS-TRUST:trust']?.id ?? null,
    trustorId: t['OS-TRUST:trust']?.trustor_user.id ?? null,
    trusteeId: t['OS-TRUST:trust']?.trustee_user.id ?? null,
    consumerId: t['OS-OAUTH1']?.consumer_id ?? null,
  };
  if (!t.project) {
    const scope = t.domain ? 'domain-scoped' : t.system !== undefined ? 'system-scoped' : 'unscoped';
    throw new UnauthenticatedError(`the token is ${scope}: Strata needs a project-scoped token (authenticate with a project: OS_PROJECT_NAME)`);
  }
  const keystoneRoles = t.roles.map((r) => r.name);
  const role = strataRole(keystoneRoles);
  if (role === undefined) {
    throw new PermissionDeniedError(
      `user ${t.user.name} has none of the roles admin, member or reader on project ${t.project.name} (roles: ${keystoneRoles.join(', ') || 'none'})`,
    );
  }
  const identity: Identity = {
    userId: t.user.id,
    userName: t.user.name,
    projectId: t.project.id,
    projectName: t.project.name,
    role,
    keystoneRoles,
    expiresAt,
    auditId: facts.auditId,
  };
  return { identity, facts };
}
