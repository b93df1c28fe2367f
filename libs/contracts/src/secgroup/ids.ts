/**
 * Deterministic ids for the resources secgroup creates on its own (the
 * tenant's default group and its rules): every instance, and every replay,
 * derives the same id, so creating them twice writes to the same aggregate
 * and optimistic concurrency lets only one creation through.
 */
import { uuidFromHash } from '@strata/eventlog';

// The formulas below are system-derived ids (libs/eventlog/src/ids.ts): kept exactly as first written, ids in the log depend on them.

/** The id of a tenant's default security group. */
export const defaultSecurityGroupId = (tenant: string): string => uuidFromHash(`default-security-group:${tenant}`);

/** The id of one of the default group's initial rules (`egress-ipv4`, `ingress-ipv6`, ...). */
export const defaultSecurityGroupRuleId = (tenant: string, rule: string): string => uuidFromHash(`default-security-group-rule:${tenant}:${rule}`);

/** The id of one of the egress rules a group created with `egressRules` starts with (`ipv4`, `ipv6`). */
export const egressRuleId = (groupId: string, ethertype: string): string => uuidFromHash(`security-group-egress-rule:${groupId}:${ethertype}`);
