/**
 * Keystone's revocation events and the rule that decides whether one
 * revokes a token, as Keystone 22 itself decides it (keystone/revoke/
 * backends/sql.py `_list_token_events` filters by issued_before, user,
 * project and audit id; keystone/models/revoke_model.py `matches` checks
 * the rest). A cached validation must be refused exactly when Keystone
 * would refuse the token, so the rule is Keystone's, quirks included.
 */
import { z } from 'zod';

/** What Keystone's revocation model compares of a token (revoke_model.build_token_values). */
export interface TokenFacts {
  userId: string;
  /** The user's domain. */
  identityDomainId: string | null;
  projectId: string | null;
  /**
   * Keystone sets this from a domain-scoped token's domain only: for a
   * project-scoped token build_token_values overwrites the project's
   * domain with None, so `domain_scope_id` events never match one.
   */
  assignmentDomainId: string | null;
  auditId: string;
  /** The audit id of the token this one was rescoped from (audit_ids[1]), Keystone's parent_audit_id. */
  auditChainId: string | null;
  /** ms since epoch (Keystone issues with second precision). */
  issuedAt: number;
  expiresAt: number;
  roleIds: readonly string[];
  trustId: string | null;
  trustorId: string | null;
  trusteeId: string | null;
  consumerId: string | null;
}

/** One event of GET /v3/OS-REVOKE/events: only the attributes it names restrict what it revokes. */
export interface RevocationEvent {
  userId?: string;
  roleId?: string;
  domainId?: string;
  domainScopeId?: string;
  projectId?: string;
  auditId?: string;
  auditChainId?: string;
  trustId?: string;
  consumerId?: string;
  /** ms since epoch, second precision */
  expiresAt?: number;
  /** Tokens issued at or before this instant (ms) are revoked. */
  issuedBefore: number;
  revokedAt: number;
}

const time = z.string().transform((s, ctx) => {
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `not an ISO 8601 time: ${JSON.stringify(s)}` });
    return z.NEVER;
  }
  return ms;
});
const id = z.string().min(1).optional();

const eventSchema = z.object({
  user_id: id,
  role_id: id,
  domain_id: id,
  domain_scope_id: id,
  project_id: id,
  audit_id: id,
  audit_chain_id: id,
  'OS-TRUST:trust_id': id,
  'OS-OAUTH1:consumer_id': id,
  expires_at: time.optional(),
  issued_before: time,
  revoked_at: time,
});

export const revocationEventsSchema = z.object({ events: z.array(eventSchema) }).transform((body) => body.events.map(toEvent));

function toEvent(e: z.output<typeof eventSchema>): RevocationEvent {
  const out: RevocationEvent = { issuedBefore: e.issued_before, revokedAt: e.revoked_at };
  if (e.user_id !== undefined) out.userId = e.user_id;
  if (e.role_id !== undefined) out.roleId = e.role_id;
  if (e.domain_id !== undefined) out.domainId = e.domain_id;
  if (e.domain_scope_id !== undefined) out.domainScopeId = e.domain_scope_id;
  if (e.project_id !== undefined) out.projectId = e.project_id;
  if (e.audit_id !== undefined) out.auditId = e.audit_id;
  if (e.audit_chain_id !== undefined) out.auditChainId = e.audit_chain_id;
  if (e['OS-TRUST:trust_id'] !== undefined) out.trustId = e['OS-TRUST:trust_id'];
  if (e['OS-OAUTH1:consumer_id'] !== undefined) out.consumerId = e['OS-OAUTH1:consumer_id'];
  if (e.expires_at !== undefined) out.expiresAt = e.expires_at;
  return out;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** Whether `event` revokes the token described by `token` (Keystone's rule: every attribute the event names must match). */
export function revokes(event: RevocationEvent, token: TokenFacts): boolean {
  if (event.issuedBefore < token.issuedAt) return false;
  if (event.userId !== undefined && ![token.userId, token.trustorId, token.trusteeId].includes(event.userId)) return false;
  if (event.projectId !== undefined && event.projectId !== token.projectId) return false;
  if (event.auditId !== undefined && event.auditId !== token.auditId) return false;
  if (event.domainId !== undefined && event.domainId !== token.identityDomainId && event.domainId !== token.assignmentDomainId) return false;
  if (event.domainScopeId !== undefined && event.domainScopeId !== token.assignmentDomainId) return false;
  if (event.expiresAt !== undefined && seconds(event.expiresAt) !== seconds(token.expiresAt)) return false;
  if (event.trustId !== undefined && event.trustId !== token.trustId) return false;
  if (event.consumerId !== undefined && event.consumerId !== token.consumerId) return false;
  if (event.auditChainId !== undefined && event.auditChainId !== token.auditChainId) return false;
  if (event.roleId !== undefined && !token.roleIds.includes(event.roleId)) return false;
  return true;
}

/**
 * The events seen so far, each once (polls overlap by a second because
 * Keystone's `since` compares whole seconds). An event is kept while a token
 * it could revoke may still be valid: a token issued at or before its
 * issued_before lives at most the longest token lifetime seen.
 */
export class RevocationList {
  private readonly events = new Map<string, RevocationEvent>();
  /** Newest revoked_at seen, kept when its event is pruned (the next poll still starts there). */
  private newestRevokedAt: number | undefined;

  get size(): number {
    return this.events.size;
  }

  /** Record events; answers the ones not seen before. */
  add(events: readonly RevocationEvent[]): RevocationEvent[] {
    const fresh: RevocationEvent[] = [];
    for (const e of events) {
      const key = JSON.stringify(Object.entries(e).sort(([a], [b]) => a.localeCompare(b)));
      if (this.events.has(key)) continue;
      this.events.set(key, e);
      this.newestRevokedAt = Math.max(this.newestRevokedAt ?? e.revokedAt, e.revokedAt);
      fresh.push(e);
    }
    return fresh;
  }

  /** The first event that revokes the token, if any. */
  find(token: TokenFacts): RevocationEvent | undefined {
    for (const e of this.events.values()) if (revokes(e, token)) return e;
    return undefined;
  }

  /** Forget events no token still valid at `now` can match (tokens live at most `maxLifetimeMs`). */
  prune(now: number, maxLifetimeMs: number): void {
    for (const [key, e] of this.events) if (e.issuedBefore + maxLifetimeMs < now) this.events.delete(key);
  }

  /** Where the next poll starts: a second before the newest event (Keystone's `since` is exclusive and whole seconds). */
  since(): string | undefined {
    return this.newestRevokedAt === undefined ? undefined : new Date(this.newestRevokedAt - 1000).toISOString();
  }
}
