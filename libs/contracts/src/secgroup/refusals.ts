/**
 * Why secgroup refuses a request, as `details.reason` of its error: part of
 * the contract, so a front door that answers in another API's words (the
 * Neutron service: SecurityGroupInvalidPortRange, SecurityGroupInUse, ...)
 * maps the reason, never the message text.
 */
export const SecgroupRefusal = {
  // rule.create (INVALID_ARGUMENT)
  PortsNeedL4: 'ports-need-tcp-udp',
  IcmpFieldsNeedIcmp: 'icmp-fields-need-icmp',
  ProtocolEthertype: 'protocol-ethertype-conflict',
  IcmpCodeNeedsType: 'icmp-code-needs-type',
  PortRangeOrder: 'port-range-order',
  RemoteExclusive: 'remote-exclusive',
  CidrFamily: 'cidr-family-conflict',
  // group.create / group.update (INVALID_ARGUMENT)
  ReservedName: 'reserved-name',
  DefaultGroupName: 'default-group-name',
  // group.create / group.update (ALREADY_EXISTS)
  FederationTagTaken: 'federation-tag-taken',
  // group.delete (FAILED_PRECONDITION)
  DefaultGroup: 'default-group',
  TenantHasPorts: 'tenant-has-ports',
  Members: 'members',
  RemoteGroup: 'remote-group',
} as const;
export type SecgroupRefusal = (typeof SecgroupRefusal)[keyof typeof SecgroupRefusal];
