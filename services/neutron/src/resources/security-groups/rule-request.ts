/**
 * A Neutron security-group-rule POST body → secgroup's `rule.create`.
 *
 * Only Neutron's own input conversions live here (neutron's securitygroup
 * extension: convert_protocol, convert_ethertype_to_case_insensitive,
 * convert_validate_port_value, convert_ip_prefix_to_cidr, and the port
 * range's shape: both bounds or none); every rule about what a rule may be
 * (ports only for tcp/udp, ICMP only in its family, one remote, the CIDR's
 * family, duplicates, the remote group's tenant) is the secgroup service's,
 * and its refusals are given Neutron's words in faults.ts.
 */
import type { EtherType, RuleDirection, RuleProtocol, SecgroupCommandInput } from '@strata/contracts';
import { AddressError, formatPrefix, parseAddress, parsePrefix } from '@strata/netaddr';
import type { Json } from '../../resource.js';
import { fault, invalidInput, raise as refuse } from './faults.js';

export type RuleCreate = SecgroupCommandInput<'rule.create'>;

/** The protocols Strata filters on: Neutron's names and numbers for them. */
const PROTOCOLS: ReadonlyMap<string, RuleProtocol> = new Map([
  ['any', 'any'],
  ['0', 'any'],
  ['tcp', 'tcp'],
  ['6', 'tcp'],
  ['udp', 'udp'],
  ['17', 'udp'],
  ['icmp', 'icmp'],
  ['1', 'icmp'],
  ['icmpv6', 'icmpv6'],
  ['ipv6-icmp', 'icmpv6'],
  ['58', 'icmpv6'],
]);
/** What the refusal of any other protocol lists (Neutron's message lists its own supported values the same way). */
const SUPPORTED = "[None, 'any', 'tcp', 'udp', 'icmp', 'icmpv6', 'ipv6-icmp']";

/** neutron's convert_protocol, narrowed to what Strata enforces (any other IP protocol is refused, not ignored). */
export function protocolOf(value: unknown, ethertype: EtherType): RuleProtocol {
  if (value === null || value === undefined) return 'any';
  const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : typeof value === 'string' ? value.toLowerCase() : undefined;
  const protocol = text === undefined ? undefined : PROTOCOLS.get(/^\d+$/.test(text) ? String(Number(text)) : text);
  if (protocol === undefined) {
    return refuse(
      fault(
        400,
        'SecurityGroupRuleInvalidProtocol',
        `Security group rule protocol ${String(value)} not supported. Only protocol values ${SUPPORTED} and their integer representations (0, 6, 17, 1, 58) are supported.`,
      ),
    );
  }
  // Neutron takes `icmp` in an IPv6 rule as ICMPv6 (its firewall drivers do); Strata names it icmpv6.
  return protocol === 'icmp' && ethertype === 'IPv6' ? 'icmpv6' : protocol;
}

export function ethertypeOf(value: unknown): EtherType {
  if (value === undefined || value === null) return 'IPv4';
  const found = typeof value === 'string' ? (['IPv4', 'IPv6'] as const).find((e) => e.toLowerCase() === value.toLowerCase()) : undefined;
  return (
    found ??
    refuse(fault(400, 'SecurityGroupRuleInvalidEtherType', `Security group rule for ethertype '${String(value)}' not supported. Allowed values are ['IPv4', 'IPv6'].`))
  );
}

function directionOf(value: unknown): RuleDirection {
  if (value === 'ingress' || value === 'egress') return value;
  return refuse(invalidInput('direction', `'${String(value)}' is not in ['ingress', 'egress']`));
}

/** convert_validate_port_value: null, or a port number (0-65535) as a number or a string of digits. */
export function portOf(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (Number.isInteger(n) && n >= 0 && n <= 65535) return n;
  return refuse(fault(400, 'SecurityGroupInvalidPortValue', `Invalid value for port ${String(value)}`));
}

/** convert_ip_prefix_to_cidr: an address alone is its /32 or /128; host bits are dropped (Neutron's normalized_cidr). */
export function remotePrefixOf(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const invalid = fault(400, 'InvalidCIDR', `Invalid CIDR ${String(value)} given as IP prefix.`);
  if (typeof value !== 'string') return refuse(invalid);
  try {
    if (!value.includes('/')) {
      const a = parseAddress(value);
      return formatPrefix({ version: a.version, network: a.value, length: a.version === 4 ? 32 : 128 });
    }
    return formatPrefix(parsePrefix(value, false));
  } catch (e) {
    if (e instanceof AddressError) return refuse(invalid);
    throw e;
  }
}

function idOf(body: Json, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return refuse(invalidInput(key, `'${JSON.stringify(value)}' is not a valid UUID`));
  return value;
}

function textOf(body: Json, key: string): string {
  const value = body[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') return refuse(invalidInput(key, `'${JSON.stringify(value)}' is not a valid string`));
  return value;
}

/** The `rule.create` a Neutron POST body asks for. */
export function ruleCreateOf(body: Json): RuleCreate {
  const groupId = idOf(body, 'security_group_id') ?? refuse(invalidInput('security_group_id', "'None' is not a valid string"));
  const ethertype = ethertypeOf(body.ethertype);
  const protocol = protocolOf(body.protocol, ethertype);
  const min = portOf(body.port_range_min);
  const max = portOf(body.port_range_max);
  const ports: Partial<RuleCreate> = {};
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    if (min !== null) ports.icmpType = min;
    if (max !== null) ports.icmpCode = max;
  } else {
    // Neutron takes a TCP/UDP range with both bounds or none; one alone is its InvalidPortRange.
    if ((protocol === 'tcp' || protocol === 'udp') && (min === null) !== (max === null)) {
      refuse(fault(400, 'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max'));
    }
    if (min !== null) ports.portMin = min;
    if (max !== null) ports.portMax = max;
  }
  const remoteGroupId = idOf(body, 'remote_group_id');
  const remoteCidr = remotePrefixOf(body.remote_ip_prefix);
  return {
    groupId,
    direction: directionOf(body.direction),
    ethertype,
    protocol,
    ...ports,
    ...(remoteGroupId === undefined ? {} : { remoteGroupId }),
    ...(remoteCidr === undefined ? {} : { remoteCidr }),
    description: textOf(body, 'description'),
  };
}
