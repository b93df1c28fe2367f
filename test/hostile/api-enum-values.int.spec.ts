/**
 * Issue 11, defect 9: an enum value outside the enum became allow-all (a
 * security-group rule with protocol 99 was stored as "any protocol").
 * Attack: every enum field of every request of the API gets a number its
 * enum does not define. Must: INVALID_ARGUMENT naming the field, and no
 * event. Against the real API process with real services (startControlPlane).
 */
import { status } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStrataRoot } from '@strata/proto';
import { allMethods, startApiUnderAttack, type ApiUnderAttack } from './api-boundary.js';

describe('hostile: enum values outside their enum', () => {
  let api: ApiUnderAttack;
  let groupId: string;

  beforeAll(async () => {
    api = await startApiUnderAttack();
    const path = '/strata.v1.SecurityGroupService/CreateSecurityGroup';
    const created = await api.call(path, api.requestType(path).encode({ tenant: 'tenant-a', name: 'web' }).finish());
    expect(created.code).toBe(status.OK);
    groupId = (loadStrataRoot().lookupType('strata.v1.SecurityGroup').decode(created.response!) as unknown as { id: string }).id;
  });
  afterAll(async () => api?.stop());

  const rulePath = '/strata.v1.SecurityGroupService/CreateSecurityGroupRule';

  it('refuses a rule with protocol 99 instead of storing "any protocol", and writes nothing', async () => {
    const before = await api.lastSeq();
    const body = api.requestType(rulePath).encode({ groupId, direction: 1, ethertype: 1, protocol: 99 }).finish();
    const r = await api.call(rulePath, body);
    expect(r).toMatchObject({ code: status.INVALID_ARGUMENT, field: 'protocol' });
    expect(r.details).toMatch(/^protocol: unknown RuleProtocol value 99; one of RULE_PROTOCOL_UNSPECIFIED, .*RULE_PROTOCOL_ANY$/);
    expect(await api.lastSeq()).toBe(before);
  });

  it('the same rule with a defined protocol is accepted (the refusal is about the value, nothing else)', async () => {
    const before = await api.lastSeq();
    const r = await api.call(rulePath, api.requestType(rulePath).encode({ groupId, direction: 1, ethertype: 1, protocol: 1, portMin: 443 }).finish());
    expect(r.code).toBe(status.OK);
    expect(await api.lastSeq()).toBeGreaterThan(before);
  });

  it.each([
    [rulePath, { ethertype: 1 }, 'direction'],
    [rulePath, { direction: 1 }, 'ethertype'],
    ['/strata.v1.PoolService/CreatePool', { name: 'p', cidr: '203.0.113.0/28' }, 'purpose'],
    ['/strata.v1.GatewayService/CreateGatewayDevice', { name: 'gw', hostId: 'hv1', ports: [{ name: 'eth1' }] }, 'kind'],
  ])('a required enum left UNSPECIFIED (0) is refused by the command: %s %s → %s', async (path, request, field) => {
    const before = await api.lastSeq();
    const r = await api.call(path, api.requestType(path).encode(path === rulePath ? { groupId, ...request } : request).finish());
    expect(r).toMatchObject({ code: status.INVALID_ARGUMENT, field });
    expect(await api.lastSeq()).toBe(before);
  });

  it('protocol left UNSPECIFIED (0) means any protocol, as security_group.proto documents', async () => {
    const r = await api.call(rulePath, api.requestType(rulePath).encode({ groupId, direction: 2, ethertype: 2 }).finish());
    expect(r.code).toBe(status.OK);
    const rule = loadStrataRoot().lookupType('strata.v1.SecurityGroupRule').decode(r.response!);
    expect(loadStrataRoot().lookupType('strata.v1.SecurityGroupRule').toObject(rule, { enums: String })).toMatchObject({ protocol: 'RULE_PROTOCOL_ANY' });
  });

  // Every enum field of every request type, found from the service definitions.
  const enumFields = allMethods().flatMap((m) =>
    enumFieldsOf(m.type).map((f) => ({ path: m.path, field: f.name, enumType: f.resolvedType as protobuf.Enum })),
  );

  it('finds the enum fields to attack', () => {
    expect(enumFields.map((f) => `${f.path.split('/')[2]}.${f.field}`).sort()).toEqual([
      'CreateFlowClassifier.ethertype',
      'CreateFlowClassifier.protocol',
      'CreateFunctionGroup.fallback',
      'CreateFunctionGroup.selection',
      'CreateGatewayDevice.kind',
      'CreatePool.purpose',
      'CreateSecurityGroupRule.direction',
      'CreateSecurityGroupRule.ethertype',
      'CreateSecurityGroupRule.protocol',
      'CreateServiceFunction.mode',
    ]);
  });

  it.each(enumFields.flatMap((f) => [-1, Math.max(...Object.values(f.enumType.values)) + 1, 2 ** 31 - 1].map((value) => ({ ...f, value }))))(
    '$path $field = $value is INVALID_ARGUMENT and writes nothing',
    async ({ path, field, value }) => {
      const before = await api.lastSeq();
      const valid = path === rulePath ? { groupId, direction: 1, ethertype: 1, protocol: 1 } : { name: 'p', cidr: '203.0.113.0/28', purpose: 1 };
      const r = await api.call(path, api.requestType(path).encode({ ...valid, [field]: value }).finish());
      expect(r).toMatchObject({ code: status.INVALID_ARGUMENT, field });
      expect(await api.lastSeq()).toBe(before);
    },
  );
});

function enumFieldsOf(type: protobuf.Type): protobuf.Field[] {
  return type.fieldsArray.filter((f) => f.resolve().resolvedType instanceof protobuf.Enum);
}

