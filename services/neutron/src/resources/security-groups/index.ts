/** Security groups and their rules on the secgroup service (docs/architecture.md, "Security groups" under the Neutron API). */
import type { ResourceDefinition } from '../../resource.js';
import { securityGroupRules } from './security-group-rules.js';
import { securityGroups } from './security-groups.js';

export const securityGroupResources: readonly ResourceDefinition[] = [securityGroups, securityGroupRules];

export { SECURITY_GROUP_EXTENSIONS } from './extensions.js';
export { securityGroupRules, securityGroups };
