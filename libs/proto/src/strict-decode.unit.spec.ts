import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { MalformedRequestError, RejectedRequest, loadStrataProto, loadStrataRoot, strictChecker, strictService } from './index.js';

const bounds = {
  text: { groupId: 64, remoteCidr: 64, remoteGroupId: 64, name: 8, description: 8, tenant: 63, networkId: 64, start: 64, end: 64, cidr: 64, gatewayIp: 64, dnsNameservers: 64, destination: 64, nexthop: 64, ipv6RaMode: 63, ipv6AddressMode: 63 },
  list: { allocationPools: 2, dnsNameservers: 2, hostRoutes: 2 },
};
const root = loadStrataRoot();
const RuleRequest = root.lookupType('strata.v1.CreateSecurityGroupRuleRequest');
const NetworkRequest = root.lookupType('strata.v1.CreateNetworkRequest');
const SubnetRequest = root.lookupType('strata.v1.CreateSubnetRequest');

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
function refusal(type: protobuf.Type, data: Uint8Array): string {
  try {
    strictChecker(type, bounds)(data);
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedRequestError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('strictChecker', () => {
  it('accepts what a protobuf encoder writes, packed or not', () => {
    const ok = RuleRequest.encode({ groupId: 'g', direction: 1, ethertype: 2, protocol: 5, portMin: 0, remoteCidr: '10.0.0.0/8' }).finish();
    expect(() => strictChecker(RuleRequest, bounds)(ok)).not.toThrow();
    const pools = SubnetRequest.encode({ networkId: 'n', cidr: '10.0.0.0/24', allocationPools: [{ start: 'a', end: 'b' }] }).finish();
    expect(() => strictChecker(SubnetRequest, bounds)(pools)).not.toThrow();
    expect(() => strictChecker(NetworkRequest, bounds)(bytes())).not.toThrow();
  });

  it('refuses an enum number the enum does not define (protocol 99 is not "any")', () => {
    expect(refusal(RuleRequest, RuleRequest.encode({ groupId: 'g', protocol: 99 }).finish())).toMatch(/^protocol: unknown RuleProtocol value 99/);
    expect(refusal(RuleRequest, RuleRequest.encode({ direction: -1 }).finish())).toMatch(/^direction: unknown RuleDirection value -1/);
  });

  it('refuses truncated data, wrong and group wire types, field 0, unknown fields and duplicates', () => {
    expect(refusal(NetworkRequest, bytes(0x12, 0x05, 0x61))).toMatch(/truncated/); // name: 5 bytes announced, 1 given
    expect(refusal(NetworkRequest, bytes(0x12))).toMatch(/truncated/);
    expect(refusal(NetworkRequest, bytes(0x10, 0x01))).toMatch(/^name: wrong wire type 0/); // name as a varint
    expect(refusal(NetworkRequest, bytes(0x13, 0x14))).toMatch(/group wire type/);
    expect(refusal(NetworkRequest, bytes(0x00, 0x00))).toMatch(/field number 0/);
    expect(refusal(NetworkRequest, bytes(0x78, 0x01))).toMatch(/unknown field number 15/);
    expect(refusal(NetworkRequest, bytes(0x12, 0x01, 0x61, 0x12, 0x01, 0x62))).toMatch(/^name: given more than once/);
    expect(refusal(NetworkRequest, bytes(0x20, 0x02))).toMatch(/^routed: 2 is not a bool/);
    expect(refusal(NetworkRequest, bytes(0x18, 0xff, 0xff, 0xff, 0xff, 0x1f))).toMatch(/^mtu: .* out of range for uint32/);
    expect(refusal(NetworkRequest, bytes(0x18, ...new Array<number>(10).fill(0xff), 0x01))).toMatch(/longer than/);
  });

  it('refuses invalid UTF-8 instead of replacing it', () => {
    expect(refusal(NetworkRequest, bytes(0x12, 0x02, 0xc3, 0x28))).toMatch(/^name: is not valid UTF-8/);
  });

  it('refuses texts and lists over their bound, naming the field and the bound', () => {
    expect(refusal(NetworkRequest, NetworkRequest.encode({ name: 'x'.repeat(9) }).finish())).toBe('name: must be at most 8 characters (got 9)');
    expect(() => strictChecker(NetworkRequest, bounds)(NetworkRequest.encode({ name: 'é'.repeat(8) }).finish())).not.toThrow();
    const three = SubnetRequest.encode({ allocationPools: [{}, {}, {}] }).finish();
    expect(refusal(SubnetRequest, three)).toBe('allocationPools: at most 2 entries');
    const deep = SubnetRequest.encode({ allocationPools: [{ start: 'y'.repeat(65) }] }).finish();
    expect(refusal(SubnetRequest, deep)).toBe('allocationPools.0.start: must be at most 64 characters (got 65)');
  });

  it('will not check a message with a field that has no bound', () => {
    expect(() => strictChecker(root.lookupType('strata.v1.CreatePortRequest'), bounds)).toThrow(/CreatePortRequest\.\w+ has no length bound/);
  });
});

describe('strictService', () => {
  it('hands a RejectedRequest to the handler instead of throwing (grpc-js would answer INTERNAL)', () => {
    const svc = strictService(loadStrataProto().strata.v1.NetworkService.service, { text: { ...bounds.text, id: 64, after: 64 }, list: {} });
    const create = svc['CreateNetwork']!;
    expect(create.requestDeserialize(Buffer.from([0x12, 0x05]))).toBeInstanceOf(RejectedRequest);
    expect(create.requestDeserialize(Buffer.from(NetworkRequest.encode({ name: 'web' }).finish()))).toMatchObject({ name: 'web', routed: false });
  });
});
