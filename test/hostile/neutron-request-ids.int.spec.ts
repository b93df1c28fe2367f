/**
 * Attacks through the request ids of the Neutron API (issue 17's review):
 * the Neutron REST service as production runs it (its own process, the
 * real services, a real Keystone). OpenStack callers send
 * `X-Openstack-Request-Id`; Strata's services treat a request id as an
 * idempotency key, so a caller's id that reached them as one would let
 * project B, replaying project A's id, be answered with A's result (a
 * replayed create returns the first create's resource) or have B's own
 * request refused as a replay. Each attempt must get B's own answer:
 *  - B sends the global request id A used for a create: B's create makes
 *    B's network; A's is neither returned nor changed;
 *  - B sends A's *response* request id (the service's own id for A's
 *    request) as its global id: the same;
 *  - B sends that id on a show, an update and a delete of A's network:
 *    404, nothing written;
 *  - an id not in oslo's `req-<uuid>` form (junk, or 8 KB of it) is not
 *    taken as the correlation id: the events carry the service's own.
 * Afterwards, every event correlated with the shared global id belongs to
 * the project whose request wrote it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_START_MS, startNeutronStack, type NeutronStack, type StackLogin, type StackResponse } from '../../services/neutron/src/test/stack.js';

const GLOBAL = 'req-0b5d7c3e-4f1a-4e2b-9c8d-7a6b5c4d3e2f';

describe('Neutron request ids: one project cannot reach another through them', () => {
  let stack: NeutronStack;
  let alice: StackLogin;
  let bob: StackLogin;
  let aliceNet: { id: string; name: string; project_id: string; revision_number: number };
  let aliceCreate: StackResponse;

  const createNetwork = (who: StackLogin, name: string, requestId: string): Promise<StackResponse> =>
    stack.request('POST', '/v2.0/networks', { token: who.token, body: { network: { name } }, headers: { 'X-Openstack-Request-Id': requestId } });

  beforeAll(async () => {
    stack = await startNeutronStack();
    alice = await stack.login('project-a', 'alice', 'member');
    bob = await stack.login('project-b', 'bob', 'member');
    aliceCreate = await createNetwork(alice, 'alice-net', GLOBAL);
    expect(aliceCreate.status).toBe(201);
    aliceNet = aliceCreate.body.network;
  }, STACK_START_MS);

  afterAll(async () => {
    await stack?.stop();
  });

  const aliceNetworkUnchanged = async (): Promise<void> => {
    const r = await stack.request('GET', `/v2.0/networks/${aliceNet.id}`, { token: alice.token });
    expect(r.status).toBe(200);
    expect(r.body.network).toMatchObject({ name: 'alice-net', project_id: alice.projectId, revision_number: aliceNet.revision_number });
  };

  it("B's create with A's global request id makes B's own network, never answers A's", async () => {
    const r = await createNetwork(bob, 'bob-net', GLOBAL);
    expect(r.status).toBe(201);
    expect(r.body.network).toMatchObject({ name: 'bob-net', project_id: bob.projectId });
    expect(r.body.network.id).not.toBe(aliceNet.id);
    await aliceNetworkUnchanged();
  });

  it("B's create with A's response request id as its global id makes B's own network, never answers A's", async () => {
    const aliceRequestId = aliceCreate.headers.get('x-openstack-request-id')!;
    expect(aliceRequestId).toMatch(/^req-[0-9a-f-]{36}$/);
    const r = await createNetwork(bob, 'bob-net-2', aliceRequestId);
    expect(r.status).toBe(201);
    expect(r.body.network).toMatchObject({ name: 'bob-net-2', project_id: bob.projectId });
    expect(r.body.network.id).not.toBe(aliceNet.id);
    expect(r.headers.get('x-openstack-request-id')).not.toBe(aliceRequestId);
    await aliceNetworkUnchanged();
  });

  it("B's show, update and delete of A's network with A's ids: 404, nothing written", async () => {
    for (const id of [GLOBAL, aliceCreate.headers.get('x-openstack-request-id')!]) {
      const before = await stack.lastSeq();
      const headers = { 'X-Openstack-Request-Id': id };
      for (const [method, body] of [['GET', undefined], ['PUT', { network: { name: 'taken' } }], ['DELETE', undefined]] as const) {
        const r = await stack.request(method, `/v2.0/networks/${aliceNet.id}`, { token: bob.token, headers, ...(body ? { body } : {}) });
        expect([method, r.status, r.body.NeutronError.type]).toEqual([method, 404, 'NetworkNotFound']);
      }
      expect(await stack.lastSeq()).toBe(before);
    }
    await aliceNetworkUnchanged();
  });

  it('an id not in oslo form is not the correlation id: the events carry the service’s own', async () => {
    for (const junk of ['not-a-request-id', `req-${'x'.repeat(8 * 1024)}`, `${GLOBAL}0`]) {
      const before = await stack.lastSeq();
      const r = await createNetwork(bob, 'junk-id', junk);
      expect(r.status).toBe(201);
      // The service's own id correlates every event the create wrote.
      expect((await stack.writtenBy(r, before)).length).toBeGreaterThan(0);
    }
  });

  it("every event correlated with the shared global id belongs to the project whose request wrote it", async () => {
    const operator = await stack.connectAs('admin');
    const jsm = await operator.jetstreamManager();
    const last = await stack.lastSeq();
    const tenants = new Map<string, number>();
    for (let seq = 1; seq <= last; seq++) {
      const e = (await jsm.streams.getMessage('STRATA_EVENTS', { seq })).json<{ correlationId: string; tenant: string; aggregate: { id: string } }>();
      if (e.correlationId !== GLOBAL) continue;
      tenants.set(e.tenant, (tenants.get(e.tenant) ?? 0) + 1);
      if (e.aggregate.id === aliceNet.id) expect(e.tenant).toBe(alice.projectId);
    }
    // A's create and B's first create carried the global id; nothing else did, and nothing of B's landed in A's name.
    expect([...tenants.keys()].sort()).toEqual([alice.projectId, bob.projectId].sort());
    await operator.close();
  });
});
