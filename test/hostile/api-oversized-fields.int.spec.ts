/**
 * Issue 11, defect 11: 1 MB names, ids, device ids or page tokens returned
 * UNAVAILABLE "NatsError: MAX_PAYLOAD_EXCEEDED" (a retry hint and an
 * internal detail), and ListEvents with a 1 MB aggregate id INTERNAL.
 * Attack: 1 MB (and just-over-the-bound) texts and over-long lists in
 * requests to the real API process. Must: INVALID_ARGUMENT naming the field
 * and its bound, no internal text, no event; a request larger than the
 * receive limit is refused by grpc-js (RESOURCE_EXHAUSTED), also without
 * internal text.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DEVICE_ID_LENGTH, MAX_GROUPS_PER_PORT, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_PAGE_TOKEN_LENGTH, requestTextBounds } from '@strata/contracts';
import { INTERNAL_TEXT, allMethods, startApiUnderAttack, type ApiUnderAttack } from './api-boundary.js';

const MB = 1_000_000;
const uuid = '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b';

describe('hostile: oversized fields', () => {
  let api: ApiUnderAttack;
  beforeAll(async () => {
    api = await startApiUnderAttack();
  });
  afterAll(async () => api?.stop());

  const refused = async (path: string, request: Record<string, unknown>, field: string, bound: RegExp): Promise<void> => {
    const before = await api.lastSeq();
    const r = await api.call(path, api.requestType(path).encode(request).finish());
    expect(r).toMatchObject({ code: status.INVALID_ARGUMENT, field });
    expect(r.details).toMatch(bound);
    expect(r.details).not.toMatch(INTERNAL_TEXT);
    expect(await api.lastSeq()).toBe(before);
  };

  it.each([
    ['/strata.v1.NetworkService/CreateNetwork', { name: 'n'.repeat(MB) }, 'name', MAX_NAME_LENGTH],
    ['/strata.v1.NetworkService/GetNetwork', { id: 'i'.repeat(MB) }, 'id', MAX_ID_LENGTH],
    ['/strata.v1.NetworkService/ListNetworks', { after: 'a'.repeat(MB) }, 'after', MAX_PAGE_TOKEN_LENGTH],
    ['/strata.v1.PortService/CreatePort', { networkId: uuid, deviceId: 'd'.repeat(MB) }, 'deviceId', MAX_DEVICE_ID_LENGTH],
    ['/strata.v1.SecurityGroupService/CreateSecurityGroup', { name: 'g', description: 'x'.repeat(MB) }, 'description', MAX_NAME_LENGTH],
    ['/strata.v1.EventService/ListEvents', { aggregateId: 'x'.repeat(MB) }, 'aggregateId', MAX_ID_LENGTH],
    ['/strata.v1.EventService/Watch', { aggregateId: 'x'.repeat(MB) }, 'aggregateId', MAX_ID_LENGTH],
  ])('%s with a 1 MB %s: INVALID_ARGUMENT naming the field and its bound', async (path, request, field, bound) => {
    await refused(path, request, field, new RegExp(`^${field}: must be at most ${bound} characters \\(got ${MB}\\)$`));
  });

  it('one character over the bound is refused the same way (the bound, not the size of the message)', async () => {
    await refused('/strata.v1.RouterService/CreateRouter', { name: 'r'.repeat(MAX_NAME_LENGTH + 1) }, 'name', /at most 255 characters \(got 256\)/);
  });

  it('lists over their bound are refused', async () => {
    const groups = Array.from({ length: MAX_GROUPS_PER_PORT + 1 }, () => uuid);
    await refused('/strata.v1.SecurityGroupService/SetPortSecurityGroups', { portId: uuid, groupIds: groups }, 'groupIds', /^groupIds: at most 16 entries$/);
    await refused('/strata.v1.EventService/ListEvents', { types: Array.from({ length: 10_000 }, () => 'ipam.PortCreated') }, 'types', /^types: at most 64 entries$/);
  });

  it('every text field of every request type has a bound the API enforces (1 MB each)', async () => {
    for (const m of allMethods()) {
      for (const f of m.type.fieldsArray.filter((f) => f.type === 'string')) {
        const before = await api.lastSeq();
        const value = f.repeated ? ['x'.repeat(MB)] : 'x'.repeat(MB);
        const r = await api.call(m.path, m.type.encode({ [f.name]: value }).finish());
        expect(r.code, `${m.path} ${f.name}`).toBe(status.INVALID_ARGUMENT);
        expect(r.details).toContain(`must be at most ${requestTextBounds[f.name]} characters`);
        expect(await api.lastSeq()).toBe(before);
      }
    }
  });

  it('a request over the receive limit is RESOURCE_EXHAUSTED, without internal text, and the API keeps serving', async () => {
    const path = '/strata.v1.NetworkService/CreateNetwork';
    const before = await api.lastSeq();
    const r = await api.call(path, api.requestType(path).encode({ name: 'n'.repeat(3 * MB) }).finish());
    expect(r.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(r.details).not.toMatch(INTERNAL_TEXT);
    expect(await api.lastSeq()).toBe(before);
    expect((await api.call('/strata.v1.NetworkService/ListNetworks', new Uint8Array())).code).toBe(status.OK);
  });
});
