import type { EtherType__Output } from './generated/strata/v1/EtherType.js';
import type { FunctionMode__Output } from './generated/strata/v1/FunctionMode.js';
import type { GroupFallback__Output } from './generated/strata/v1/GroupFallback.js';
import type { GroupSelection__Output } from './generated/strata/v1/GroupSelection.js';
import type { GatewayDeviceKind__Output } from './generated/strata/v1/GatewayDeviceKind.js';
import type { HealthCheckProtocol__Output } from './generated/strata/v1/HealthCheckProtocol.js';
import { PoolPurpose, type PoolPurpose__Output } from './generated/strata/v1/PoolPurpose.js';
import type { RuleDirection__Output } from './generated/strata/v1/RuleDirection.js';
import type { RuleProtocol__Output } from './generated/strata/v1/RuleProtocol.js';

/**
 * A uint64 from the wire (a decimal string with `longs: String`) as a
 * number, refusing values a double cannot hold exactly rather than rounding.
 */
export function toSafeInteger(value: string | number, what = 'value'): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} ${String(value)} is not a non-negative safe integer`);
  return n;
}

const PREFIX = 'POOL_PURPOSE_';

/** Contract spelling (`floating-ip`) to the proto enum name (`POOL_PURPOSE_FLOATING_IP`); unknown → UNSPECIFIED. */
export function poolPurposeToProto(purpose: string): PoolPurpose__Output {
  const name = PREFIX + purpose.toUpperCase().replaceAll('-', '_');
  return isPoolPurpose(name) ? name : 'POOL_PURPOSE_UNSPECIFIED';
}

/** Proto enum name to the contract spelling; UNSPECIFIED → '' (no purpose given). */
export function poolPurposeFromProto(purpose: PoolPurpose__Output | number): string {
  if (typeof purpose !== 'string' || purpose === 'POOL_PURPOSE_UNSPECIFIED') return '';
  return purpose.slice(PREFIX.length).toLowerCase().replaceAll('_', '-');
}

function isPoolPurpose(name: string): name is PoolPurpose__Output {
  return name !== PoolPurpose.POOL_PURPOSE_UNSPECIFIED && Object.hasOwn(PoolPurpose, name);
}

/**
 * A proto enum whose values stand for a closed set of contract spellings
 * that do not follow from the enum names (`IPv4` ↔ `ETHER_TYPE_IPV4`).
 * A request never brings an enum number its enum does not define: the
 * API's strict decoder (strict-decode.ts) refuses those for every enum, so
 * `fromProto` only meets defined names (and UNSPECIFIED, which the
 * command's own schema accepts or refuses).
 */
function enumMapping<C extends string, P extends string>(table: Readonly<Record<C, P>>, unspecified: P) {
  const back = new Map<string, C>(Object.entries(table).map(([c, p]) => [p as string, c as C]));
  return {
    /** Contract spelling to the enum name; unknown → UNSPECIFIED. */
    toProto: (value: string): P => (Object.hasOwn(table, value) ? table[value as C] : unspecified),
    /** Enum name to the contract spelling; UNSPECIFIED or an unknown number → '' (not given). */
    fromProto: (value: P | number): C | '' => (typeof value === 'string' ? (back.get(value) ?? '') : ''),
  };
}

const ruleDirection = enumMapping<'ingress' | 'egress', RuleDirection__Output>(
  { ingress: 'RULE_DIRECTION_INGRESS', egress: 'RULE_DIRECTION_EGRESS' },
  'RULE_DIRECTION_UNSPECIFIED',
);
const etherType = enumMapping<'IPv4' | 'IPv6', EtherType__Output>({ IPv4: 'ETHER_TYPE_IPV4', IPv6: 'ETHER_TYPE_IPV6' }, 'ETHER_TYPE_UNSPECIFIED');
const ruleProtocol = enumMapping<'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'any', RuleProtocol__Output>(
  { tcp: 'RULE_PROTOCOL_TCP', udp: 'RULE_PROTOCOL_UDP', icmp: 'RULE_PROTOCOL_ICMP', icmpv6: 'RULE_PROTOCOL_ICMPV6', any: 'RULE_PROTOCOL_ANY' },
  'RULE_PROTOCOL_UNSPECIFIED',
);

/** Security-group rule direction: `ingress` ↔ `RULE_DIRECTION_INGRESS`. */
export const ruleDirectionToProto = ruleDirection.toProto;
export const ruleDirectionFromProto = ruleDirection.fromProto;
/** Security-group rule ethertype: `IPv4` ↔ `ETHER_TYPE_IPV4`. */
export const etherTypeToProto = etherType.toProto;
export const etherTypeFromProto = etherType.fromProto;
/** Security-group rule protocol: `icmpv6` ↔ `RULE_PROTOCOL_ICMPV6`. */
export const ruleProtocolToProto = ruleProtocol.toProto;
export const ruleProtocolFromProto = ruleProtocol.fromProto;

const functionMode = enumMapping<'l3' | 'wire', FunctionMode__Output>({ l3: 'FUNCTION_MODE_L3', wire: 'FUNCTION_MODE_WIRE' }, 'FUNCTION_MODE_UNSPECIFIED');
const groupSelection = enumMapping<'active-standby' | 'flow-hash', GroupSelection__Output>(
  { 'active-standby': 'GROUP_SELECTION_ACTIVE_STANDBY', 'flow-hash': 'GROUP_SELECTION_FLOW_HASH' },
  'GROUP_SELECTION_UNSPECIFIED',
);
const groupFallback = enumMapping<'fail-closed' | 'fail-open', GroupFallback__Output>(
  { 'fail-closed': 'GROUP_FALLBACK_FAIL_CLOSED', 'fail-open': 'GROUP_FALLBACK_FAIL_OPEN' },
  'GROUP_FALLBACK_UNSPECIFIED',
);
const healthCheckProtocol = enumMapping<'icmp' | 'tcp', HealthCheckProtocol__Output>(
  { icmp: 'HEALTH_CHECK_PROTOCOL_ICMP', tcp: 'HEALTH_CHECK_PROTOCOL_TCP' },
  'HEALTH_CHECK_PROTOCOL_UNSPECIFIED',
);

/** Service chaining: function mode `l3` ↔ `FUNCTION_MODE_L3`, group selection and fallback, health-check protocol. */
export const functionModeToProto = functionMode.toProto;
export const functionModeFromProto = functionMode.fromProto;
export const groupSelectionToProto = groupSelection.toProto;
export const groupSelectionFromProto = groupSelection.fromProto;
export const groupFallbackToProto = groupFallback.toProto;
export const groupFallbackFromProto = groupFallback.fromProto;
export const healthCheckProtocolToProto = healthCheckProtocol.toProto;
export const healthCheckProtocolFromProto = healthCheckProtocol.fromProto;

const gatewayDeviceKind = enumMapping<'evpn' | 'ovsdb' | 'host', GatewayDeviceKind__Output>(
  { evpn: 'GATEWAY_DEVICE_KIND_EVPN', ovsdb: 'GATEWAY_DEVICE_KIND_OVSDB', host: 'GATEWAY_DEVICE_KIND_HOST' },
  'GATEWAY_DEVICE_KIND_UNSPECIFIED',
);

/** Gateway device kind: `evpn` ↔ `GATEWAY_DEVICE_KIND_EVPN`. */
export const gatewayDeviceKindToProto = gatewayDeviceKind.toProto;
export const gatewayDeviceKindFromProto = gatewayDeviceKind.fromProto;
