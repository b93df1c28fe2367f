/**
 * Issue 11, defect 10: malformed protobuf was accepted. Truncated fields,
 * wrong or group wire types, invalid UTF-8 and random bytes each returned
 * OK and created a network (named "a", "" or "���"). Attack: those bytes,
 * sent raw (identity serialiser) to CreateNetwork of the real API process.
 * Must: INVALID_ARGUMENT, and no event, and no network.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStrataRoot } from '@strata/proto';
import { startApiUnderAttack, type ApiUnderAttack } from './api-boundary.js';

const create = '/strata.v1.NetworkService/CreateNetwork';
const list = '/strata.v1.NetworkService/ListNetworks';

// CreateNetworkRequest: tenant = 1 (string), name = 2 (string), mtu = 3 (uint32), routed = 4 (bool).
const attacks: [string, number[], RegExp][] = [
  ['a truncated name (5 bytes announced, 1 sent)', [0x12, 0x05, 0x61], /^name: truncated/],
  ['a tag with no value', [0x12], /truncated/],
  ['a truncated varint', [0x18, 0xff], /truncated/],
  ['name sent as a varint (wrong wire type)', [0x10, 0x61], /^name: wrong wire type 0/],
  ['name sent as fixed32 (wrong wire type)', [0x15, 0x61, 0x61, 0x61, 0x61], /^name: wrong wire type 5/],
  ['a start-group wire type', [0x13, 0x14], /group wire type/],
  ['an end-group wire type', [0x14], /group wire type/],
  ['invalid UTF-8 in name', [0x12, 0x03, 0xff, 0xfe, 0xfd], /^name: is not valid UTF-8/],
  ['an overlong UTF-8 encoding in name', [0x12, 0x02, 0xc0, 0xaf], /^name: is not valid UTF-8/],
  ['an unknown field', [0x12, 0x01, 0x61, 0xa0, 0x06, 0x01], /unknown field number 100/],
  ['name given twice', [0x12, 0x01, 0x61, 0x12, 0x01, 0x62], /^name: given more than once/],
  ['field number 0', [0x02, 0x01, 0x61], /field number 0/],
  ['random bytes', [0x8f, 0x3a, 0x11, 0xe4, 0x07, 0x9b, 0x00, 0x5c], /./],
  ['random bytes starting like a valid name', [0x12, 0x01, 0x61, 0x3b, 0x99, 0x01, 0x7f], /./],
];

describe('hostile: malformed protobuf requests', () => {
  let api: ApiUnderAttack;
  beforeAll(async () => {
    api = await startApiUnderAttack();
  });
  afterAll(async () => api?.stop());

  const networks = async (): Promise<unknown[]> => {
    const r = await api.call(list, new Uint8Array());
    expect(r.code).toBe(status.OK);
    return (loadStrataRoot().lookupType('strata.v1.ListNetworksResponse').decode(r.response!) as unknown as { items: unknown[] }).items;
  };

  it.each(attacks)('%s: INVALID_ARGUMENT, no event, no network', async (_what, bytes, message) => {
    const before = await api.lastSeq();
    const r = await api.call(create, Uint8Array.from(bytes));
    expect(r.code).toBe(status.INVALID_ARGUMENT);
    expect(r.details).toMatch(message);
    expect(await api.lastSeq()).toBe(before);
    expect(await networks()).toEqual([]);
  });

  it('a well-formed request is still served (the attacks were refused for their bytes alone)', async () => {
    const before = await api.lastSeq();
    const r = await api.call(create, Uint8Array.from([0x12, 0x01, 0x61]));
    expect(r.code).toBe(status.OK);
    expect(await api.lastSeq()).toBeGreaterThan(before);
    expect(await networks()).toHaveLength(1);
  });

  it('refuses malformed bytes on a server-streaming method too (Watch)', async () => {
    const r = await api.call('/strata.v1.EventService/Watch', Uint8Array.from([0x0a, 0x09, 0x61]));
    expect(r).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(r.details).toMatch(/^types\.0: truncated/);
  });
});
