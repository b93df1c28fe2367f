/**
 * Deterministic ids for the resources secgroup creates on its own (the
 * tenant's default group and its rules): every instance, and every replay,
 * derives the same id, so creating them twice writes to the same aggregate
 * and optimistic concurrency lets only one creation through.
 */
import { createHash } from 'node:crypto';

/** A UUID-shaped sha256 of `text` (version nibble 4, variant 8), so it passes the `Id` schema. */
export function uuidFromHash(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  const hex = `${h.slice(0, 12)}4${h.slice(13, 16)}8${h.slice(17, 32)}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The id of a tenant's default security group. */
export const defaultSecurityGroupId = (tenant: string): string => uuidFromHash(`default-security-group:${tenant}`);

/** The id of one of the default group's initial rules (`egress-ipv4`, `ingress-ipv6`, ...). */
export const defaultSecurityGroupRuleId = (tenant: string, rule: string): string => uuidFromHash(`default-security-group-rule:${tenant}:${rule}`);
