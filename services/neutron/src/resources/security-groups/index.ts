/**
 * Security groups and their rules on the secgroup service, and the
 * extensions that declare them: `security-group`, `stateful-security-group`
 * (every group is stateful; `stateful: false` is refused) and
 * `security-groups-normalized-cidr` (Strata keeps remote prefixes
 * canonical). Names, descriptions and dates are neutron-lib's.
 */
import type { ResourceDefinition } from '../../resource.js';
import { securityGroupRules } from './security-group-rules.js';
import { securityGroups } from './security-groups.js';

export const securityGroupResources: readonly ResourceDefinition[] = [securityGroups, securityGroupRules];

export const securityGroupExtensions = [
  { alias: 'security-group', name: 'security-group', description: 'The security groups extension.', updated: '2012-10-05T10:00:00-00:00' },
  { alias: 'stateful-security-group', name: 'Stateful security group', description: 'Indicates if the security group is stateful or not', updated: '2019-11-26T09:00:00-00:00' },
  {
    alias: 'security-groups-normalized-cidr',
    name: 'Normalized CIDR field for security group rules',
    description: 'Add new field with normalized remote_ip_prefix cidr in SG rule',
    updated: '2020-07-28T10:00:00-00:00',
  },
] as const;

export { securityGroupRules, securityGroups };
