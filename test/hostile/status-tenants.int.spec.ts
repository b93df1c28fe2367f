/**
 * Issue 15, realisation status: what one tenant can learn of another's.
 * Attack: tenant B watches status changes (WatchStatus) while tenant A's
 * resources change, asks for the watch of A's tenant, and asks the
 * realisation of A's port, network, router and security group by id.
 * Must: B's stream carries B's changes only (A's never reach it, it is not
 * a filter B could get around: the API subscribes to B's own subjects),
 * B's watch of A is PERMISSION_DENIED, and every realisation of A's
 * resources is NOT_FOUND, as a get of them is. Against the real API and
 * services (startControlPlane); the status changes are published by the
 * operator on the subjects the status service publishes on.
 */
import { Metadata, credentials, status, type ClientReadableStream, type requestCallback } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusChange as StatusChangeView } from '@strata/contracts';
import { loadStrataProto, type StatusChange__Output } from '@strata/proto';
import { startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

const v1 = loadStrataProto().strata.v1;

function bearer(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

function rpc<T>(invoke: (cb: requestCallback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => invoke((err, res) => (err ? reject(err) : resolve(res as T))));
}

describe('hostile: realisation status across tenants', () => {
  let t: TenantPlane;
  let statusApi: InstanceType<typeof v1.StatusService>;
  const a: Record<'port' | 'network' | 'router' | 'security-group', string> = { port: '', network: '', router: '', 'security-group': '' };
  let bNetwork: string;

  beforeAll(async () => {
    t = await startTenantPlane(['tenant-a', 'tenant-b']);
    statusApi = new v1.StatusService(t.cp.apiAddr, credentials.createInsecure());
    a.network = (await t.json<{ id: string }>('tenant-a', ['network', 'create', '--name', 'a-net'])).id;
    a.port = (await t.json<{ id: string }>('tenant-a', ['port', 'create', '--network', a.network, '--no-fixed-ips'])).id;
    a.router = (await t.json<{ id: string }>('tenant-a', ['router', 'create', '--name', 'a-router'])).id;
    a['security-group'] = (await t.json<{ id: string }>('tenant-a', ['secgroup', 'create', '--name', 'a-sg'])).id;
    bNetwork = (await t.json<{ id: string }>('tenant-b', ['network', 'create', '--name', 'b-net'])).id;
  });

  afterAll(async () => {
    statusApi?.close();
    await t?.stop();
  });

  it.each(['port', 'network', 'router', 'security-group'] as const)("B's realisation of A's %s is NOT_FOUND, as A's own is answered", async (kind) => {
    await expect(rpc((cb) => statusApi.GetRealisation({ kind, id: a[kind] }, bearer(t.cp.tokens['tenant-b']!), cb))).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
    // A's own passes the owner check: answered, or UNAVAILABLE where no status service runs, never NOT_FOUND.
    const own = await rpc((cb) => statusApi.GetRealisation({ kind, id: a[kind] }, bearer(t.cp.tokens['tenant-a']!), cb)).then(
      () => status.OK,
      (err: { code: status }) => err.code,
    );
    expect([status.OK, status.UNAVAILABLE]).toContain(own);
  });

  it("`strata wait` of A's port by B fails NOT_FOUND (exit 1), not a wait", async () => {
    const r = await t.cli('tenant-b', ['wait', 'port', a.port, '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: NOT_FOUND: /);
  });

  it("B's WatchStatus never carries A's changes; B's watch of A's tenant is refused", async () => {
    const change = (tenant: string, id: string): StatusChangeView => ({
      kind: 'network', tenant, id, realisation: { kind: 'network', id, hosts: 1, applied: 1, behind: [], realised: true, seq: 1 },
    });
    const call: ClientReadableStream<StatusChange__Output> = statusApi.WatchStatus({}, bearer(t.cp.tokens['tenant-b']!));
    const got: StatusChange__Output[] = [];
    // A's change first, every round, until B's own arrives: the watch is live and has had every chance to leak.
    const publish = setInterval(() => {
      t.admin.publish(`strata.realised.tenant-a.network.${a.network}`, JSON.stringify(change('tenant-a', a.network)));
      t.admin.publish(`strata.realised._admin.hypervisor.hv1`, JSON.stringify({ kind: 'hypervisor', tenant: '', id: 'hv1', hypervisor: { hostId: 'hv1', registered: true, alive: true, lastSeenAt: null, bootId: null, version: '1', appliedPosition: 1, viewPosition: 1, error: null, since: null } }));
      t.admin.publish(`strata.realised.tenant-b.network.${bNetwork}`, JSON.stringify(change('tenant-b', bNetwork)));
    }, 100);
    try {
      for await (const c of call as AsyncIterable<StatusChange__Output>) {
        got.push(c);
        if (got.length === 3) break;
      }
    } finally {
      clearInterval(publish);
      call.cancel();
    }
    expect(got.map((c) => `${c.tenant}/${c.kind}/${c.id}`)).toEqual(Array(3).fill(`tenant-b/network/${bNetwork}`));

    const spy = statusApi.WatchStatus({ tenant: 'tenant-a' }, bearer(t.cp.tokens['tenant-b']!));
    await expect(
      new Promise((resolve, reject) => {
        spy.on('data', resolve);
        spy.on('error', reject);
      }),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });
});
