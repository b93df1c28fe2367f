/**
 * The federation of availability zones across the tenant boundary, through
 * the real `strata` CLI, the real API, IPAM and a BGP gateway as the NATS
 * user `bgp` (no gobgpd behind it: configuration needs none): the zone's
 * federation is the operator's, so a tenant can neither read nor set nor
 * clear it; a tenant stretches its own network but not another's, and
 * cannot choose a VNI (how a zone joins another zone's segment is the
 * admin's). Every refusal writes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedProcess } from '@strata/lab';
import { startGateway } from '../../services/bgp-gateway/src/test/support.js';
import { startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

const CONFIG = {
  localZone: { name: 'az1', id: 1 },
  federationAs: 65500,
  routeReflectors: [{ address: '198.18.0.100', passwordRef: 'rr' }],
  zones: [{ name: 'az2', id: 2, vtepPrefixes: ['198.18.0.16/28'], vniRanges: [{ min: 2000, max: 2999 }], maxRoutes: 1000 }],
};

describe('the federation of zones across the tenant boundary', () => {
  let t: TenantPlane;
  let gateway: ManagedProcess;
  const dir = mkdtempSync(join(tmpdir(), 'strata-hostile-zones-'));
  const file = join(dir, 'federation.json');

  beforeAll(async () => {
    t = await startTenantPlane(['tenant-a', 'tenant-b']);
    gateway = startGateway(t.cp.natsUrl, 'bgp', { ...t.cp.natsEnv('bgp'), STRATA_COMMAND_VERIFY_KEYS: t.cp.commandKeys.verifyKey, GOBGP_TARGET: `unix://${join(dir, 'no-gobgpd.sock')}`, BGP_ROUTER_ID: '198.18.0.2' });
    await gateway.ready;
    writeFileSync(file, JSON.stringify(CONFIG));
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a tenant cannot read, set or clear the federation; the admin can', async () => {
    for (const tenant of ['tenant-a', 'tenant-b']) {
      await t.expectRefused(tenant, ['federation', 'show'], 'admin');
      await t.expectRefused(tenant, ['federation', 'set', '--config', file], 'admin');
      await t.expectRefused(tenant, ['federation', 'clear'], 'admin');
    }
    const set = await t.json<{ localZone: { name: string }; zones: { name: string }[]; revision: number }>('admin', ['federation', 'set', '--config', file]);
    expect(set).toMatchObject({ localZone: { name: 'az1' }, zones: [{ name: 'az2' }], revision: 1 });
    for (const tenant of ['tenant-a', 'tenant-b']) {
      await t.expectRefused(tenant, ['federation', 'show'], 'admin');
      await t.expectRefused(tenant, ['federation', 'clear'], 'admin');
    }
    expect(await t.json('admin', ['federation', 'show'])).toEqual(set);
  });

  it("a tenant stretches its own network, not another's, and cannot choose a VNI", async () => {
    const a = await t.json<{ id: string; federated?: boolean }>('tenant-a', ['network', 'create', '--name', 'a', '--federated']);
    expect(a.federated).toBe(true);
    await t.expectRefused('tenant-b', ['network', 'update', a.id, '--no-federated'], 'not found');
    await t.expectRefused('tenant-b', ['network', 'create', '--name', 'b', '--vni', '2005'], 'admin');
    const joined = await t.json<{ tenant: string; vni: number }>('admin', ['network', 'create', '--name', 'joined', '--tenant', 'tenant-b', '--federated', '--vni', '2005']);
    expect(joined).toMatchObject({ tenant: 'tenant-b', vni: 2005 });
    await t.expectRefused('admin', ['network', 'create', '--name', 'again', '--tenant', 'tenant-a', '--vni', '2005'], 'VNI 2005 is taken');
  });
});
