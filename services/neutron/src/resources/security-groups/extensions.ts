/**
 * The extensions the security-group modules declare (neutron-lib's alias,
 * name, description and date): `security-group`; `stateful-security-group`
 * (every group is stateful, `stateful: false` is refused);
 * `security-groups-normalized-cidr` (Strata keeps remote prefixes
 * canonical, so the normalized prefix is the prefix).
 */
import type { ExtensionDescriptor } from '../../resource.js';

export const SECURITY_GROUP_EXTENSIONS: readonly ExtensionDescriptor[] = [
  { alias: 'security-group', name: 'security-group', description: 'The security groups extension.', updated: '2012-10-05T10:00:00-00:00' },
  { alias: 'stateful-security-group', name: 'Stateful security group', description: 'Indicates if the security group is stateful or not', updated: '2019-11-26T09:00:00-00:00' },
  {
    alias: 'security-groups-normalized-cidr',
    name: 'Normalized CIDR field for security group rules',
    description: 'Add new field with normalized remote_ip_prefix cidr in SG rule',
    updated: '2020-07-28T10:00:00-00:00',
  },
];
