/**
 * Security groups' federation tags through the real `strata` CLI and gRPC
 * API (real ipam, secgroup and api processes; docs/architecture.md,
 * "Security groups across zones"): a tag set at creation, changed and
 * removed; a tag taken within the tenant refused (ALREADY_EXISTS) and a tag
 * outside 1-65535 refused, nothing written either way; another tenant may
 * use the same number for its own group, but can neither tag nor untag a
 * group of the first tenant (NOT_FOUND, nothing written).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

interface Group {
  id: string;
  revision: number;
  federationTag?: number;
}

describe('security group federation tags through the CLI and API', () => {
  let t: TenantPlane;

  beforeAll(async () => {
    t = await startTenantPlane(['tenant-a', 'tenant-b']);
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('set at creation, changed and removed by update; shown with the group', async () => {
    const app = await t.json<Group>('tenant-a', ['secgroup', 'create', '--name', 'app', '--federation-tag', '10']);
    expect(app.federationTag).toBe(10);
    expect(await t.json<Group>('tenant-a', ['secgroup', 'update', app.id, '--federation-tag', '11'])).toMatchObject({ federationTag: 11, revision: 2 });
    const untagged = await t.json<Group>('tenant-a', ['secgroup', 'update', app.id, '--no-federation-tag']);
    expect(untagged.federationTag).toBeUndefined();
    expect(untagged.revision).toBe(3);
    expect((await t.cli('tenant-a', ['secgroup', 'show', app.id])).out).toMatch(/│ FEDERATION TAG │ none\s+│/);
  });

  it("refuses a tag taken in the tenant and a tag out of range, writing nothing; the same number is another tenant's own business", async () => {
    const db = await t.json<Group>('tenant-a', ['secgroup', 'create', '--name', 'db', '--federation-tag', '30']);
    const web = await t.json<Group>('tenant-a', ['secgroup', 'create', '--name', 'web']);
    await t.expectRefused('tenant-a', ['secgroup', 'create', '--name', 'db2', '--federation-tag', '30'], `ALREADY_EXISTS: federation tag 30 is taken by security group ${db.id} (db)`);
    await t.expectRefused('tenant-a', ['secgroup', 'update', web.id, '--federation-tag', '30'], 'ALREADY_EXISTS: federation tag 30 is taken');
    await t.expectRefused('tenant-a', ['secgroup', 'create', '--name', 'x', '--federation-tag', '70000'], 'federation tag from 1 to 65535');
    // tenant B's group with tag 30 is its own: the refusal above never names it, and B's never names A's
    const theirs = await t.json<Group>('tenant-b', ['secgroup', 'create', '--name', 'db', '--federation-tag', '30']);
    expect(theirs.federationTag).toBe(30);
  });

  it("another tenant cannot tag, retag or untag a group it does not own (NOT_FOUND, nothing written)", async () => {
    const app = await t.json<Group>('tenant-a', ['secgroup', 'create', '--name', 'app-b-target', '--federation-tag', '40']);
    await t.expectRefused('tenant-b', ['secgroup', 'update', app.id, '--federation-tag', '41'], `NOT_FOUND: security group ${app.id} not found`);
    await t.expectRefused('tenant-b', ['secgroup', 'update', app.id, '--no-federation-tag'], `NOT_FOUND: security group ${app.id} not found`);
    expect((await t.json<Group>('tenant-a', ['secgroup', 'show', app.id])).federationTag).toBe(40);
  });
});
