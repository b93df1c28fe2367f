import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  PROTO_DIR,
  STRATA_PROTO_FILE,
  etherTypeFromProto,
  etherTypeToProto,
  functionModeFromProto,
  functionModeToProto,
  groupFallbackFromProto,
  groupFallbackToProto,
  groupSelectionFromProto,
  groupSelectionToProto,
  healthCheckProtocolFromProto,
  healthCheckProtocolToProto,
  loadStrataProto,
  poolPurposeFromProto,
  poolPurposeToProto,
  ruleDirectionFromProto,
  ruleDirectionToProto,
  ruleProtocolFromProto,
  ruleProtocolToProto,
  toSafeInteger,
} from './index.js';

describe('loadStrataProto', () => {
  it('finds the .proto files next to the package, whatever the working directory', () => {
    expect(existsSync(join(PROTO_DIR, STRATA_PROTO_FILE))).toBe(true);
  });

  it('loads every service of strata.v1', () => {
    const v1 = loadStrataProto().strata.v1;
    for (const s of [v1.NetworkService, v1.SubnetService, v1.PortService, v1.HypervisorService, v1.PoolService, v1.FloatingIpService, v1.ApplicationPrefixService, v1.RouterService, v1.SecurityGroupService, v1.NatService, v1.ChainingService, v1.EventService]) {
      expect(typeof s.service).toBe('object');
    }
    expect(Object.keys(v1.EventService.service)).toEqual(['ListEvents', 'Watch']);
  });

  it('decodes unset optional fields as absent and 64-bit integers as exact strings', () => {
    const v1 = loadStrataProto().strata.v1;
    const m = v1.SubnetService.service.CreateSubnet;
    const req = m.requestDeserialize(m.requestSerialize({ networkId: 'n', cidr: '10.0.0.0/24' }));
    expect(req).toMatchObject({ networkId: 'n', name: '', noGateway: false, allocationPools: [] });
    expect(req).not.toHaveProperty('gatewayIp');
    expect(req).not.toHaveProperty('enableDhcp');
    const w = v1.EventService.service.Watch;
    expect(w.responseDeserialize(w.responseSerialize({ event: { seq: '9007199254740993' } })).event?.seq).toBe('9007199254740993');
  });

  it('keeps an explicit 0 in an optional field apart from an unset one (a rule for port 0 reaches the server)', () => {
    const m = loadStrataProto().strata.v1.SecurityGroupService.service.CreateSecurityGroupRule;
    const req = m.requestDeserialize(m.requestSerialize({ groupId: 'g', portMin: 0, direction: 'RULE_DIRECTION_INGRESS' }));
    expect(req).toMatchObject({ groupId: 'g', portMin: 0, direction: 'RULE_DIRECTION_INGRESS', ethertype: 'ETHER_TYPE_UNSPECIFIED' });
    expect(req).not.toHaveProperty('portMax');
    expect(req).not.toHaveProperty('remoteCidr');
    const s = loadStrataProto().strata.v1.SecurityGroupService.service.SetPortSecurity;
    expect(s.requestDeserialize(s.requestSerialize({ portId: 'p', enabled: false }))).toMatchObject({ enabled: false });
    expect(s.requestDeserialize(s.requestSerialize({ portId: 'p' }))).not.toHaveProperty('enabled');
  });
});

describe('conversions', () => {
  it('toSafeInteger refuses what a double cannot hold', () => {
    expect(toSafeInteger('42')).toBe(42);
    expect(() => toSafeInteger('9007199254740993', 'seq')).toThrow(/seq 9007199254740993 is not a non-negative safe integer/);
    expect(() => toSafeInteger(-1)).toThrow(RangeError);
  });

  it('maps pool purposes both ways', () => {
    expect(poolPurposeToProto('floating-ip')).toBe('POOL_PURPOSE_FLOATING_IP');
    expect(poolPurposeToProto('application-prefix')).toBe('POOL_PURPOSE_APPLICATION_PREFIX');
    expect(poolPurposeToProto('routed')).toBe('POOL_PURPOSE_ROUTED');
    expect(poolPurposeFromProto('POOL_PURPOSE_ROUTED')).toBe('routed');
    expect(poolPurposeToProto('bogus')).toBe('POOL_PURPOSE_UNSPECIFIED');
    expect(poolPurposeFromProto('POOL_PURPOSE_HOST_IP')).toBe('host-ip');
    expect(poolPurposeFromProto('POOL_PURPOSE_UNSPECIFIED')).toBe('');
  });

  it('maps security-group rule enums both ways', () => {
    expect(ruleDirectionToProto('ingress')).toBe('RULE_DIRECTION_INGRESS');
    expect(ruleDirectionFromProto('RULE_DIRECTION_EGRESS')).toBe('egress');
    expect(etherTypeToProto('IPv6')).toBe('ETHER_TYPE_IPV6');
    expect(etherTypeToProto('ipv6')).toBe('ETHER_TYPE_UNSPECIFIED');
    expect(etherTypeFromProto('ETHER_TYPE_IPV4')).toBe('IPv4');
    expect(ruleProtocolToProto('icmpv6')).toBe('RULE_PROTOCOL_ICMPV6');
    expect(ruleProtocolFromProto('RULE_PROTOCOL_ANY')).toBe('any');
    expect(ruleProtocolToProto('toString')).toBe('RULE_PROTOCOL_UNSPECIFIED');
    for (const unspecified of [ruleDirectionFromProto('RULE_DIRECTION_UNSPECIFIED'), etherTypeFromProto(7), ruleProtocolFromProto('RULE_PROTOCOL_UNSPECIFIED')]) {
      expect(unspecified).toBe('');
    }
  });

  it('maps service-chaining enums both ways', () => {
    expect(functionModeToProto('wire')).toBe('FUNCTION_MODE_WIRE');
    expect(functionModeFromProto('FUNCTION_MODE_L3')).toBe('l3');
    expect(groupSelectionToProto('flow-hash')).toBe('GROUP_SELECTION_FLOW_HASH');
    expect(groupSelectionFromProto('GROUP_SELECTION_ACTIVE_STANDBY')).toBe('active-standby');
    expect(groupFallbackToProto('fail-open')).toBe('GROUP_FALLBACK_FAIL_OPEN');
    expect(groupFallbackFromProto('GROUP_FALLBACK_FAIL_CLOSED')).toBe('fail-closed');
    expect(healthCheckProtocolToProto('tcp')).toBe('HEALTH_CHECK_PROTOCOL_TCP');
    expect(healthCheckProtocolFromProto('HEALTH_CHECK_PROTOCOL_ICMP')).toBe('icmp');
    expect(functionModeToProto('L3')).toBe('FUNCTION_MODE_UNSPECIFIED');
    expect(groupSelectionFromProto('GROUP_SELECTION_UNSPECIFIED')).toBe('');
  });
});
