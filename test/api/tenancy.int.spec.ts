/**
 * Tenant scoping end to end: CLI → gRPC api (bearer tokens) → NATS → IPAM.
 * A tenant token sees and changes only its own tenant's resources and events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { startApi, type ApiHarness } from '../support/api.js';
import { startIpam, type IpamProcess } from '../support/ipam.js';

describe('tenant tokens', () => {
  let nats: StrataNats;
  let ipam: IpamProcess;
  let api: ApiHarness;
  let networkA: { id: string };
  let portA: { id: string };

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    await ipam.ready;
    api = await startApi(nats.options('api'), ['tenant-a', 'tenant-b']);
    const a = api.tokens['tenant-a']!;
    networkA = await api.json(a, ['network', 'create', '--name', 'a-net']);
    await api.json(a, ['subnet', 'create', '--network', networkA.id, '--cidr', '10.0.0.0/24']);
    portA = await api.json(a, ['port', 'create', '--network', networkA.id]);
  });

  afterAll(async () => {
    await api?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it("cannot read another tenant's resources", async () => {
    const b = api.tokens['tenant-b']!;
    const show = await api.cli(b, ['network', 'show', networkA.id]);
    expect(show.code).not.toBe(0);
    expect(show.err).toContain(`error: NOT_FOUND: network ${networkA.id} not found`);
    expect(await api.json(b, ['network', 'list'])).toEqual({ items: [], next: '' });
    expect(await api.json(b, ['port', 'list'])).toEqual({ items: [], next: '' });
    expect((await api.json<{ items: unknown[] }>(api.tokens['tenant-a']!, ['port', 'list'])).items).toHaveLength(1);
  });

  it("cannot change another tenant's resources", async () => {
    const b = api.tokens['tenant-b']!;
    const del = await api.cli(b, ['port', 'delete', portA.id]);
    expect(del.err).toContain(`error: NOT_FOUND: port ${portA.id} not found`);
    const create = await api.cli(b, ['port', 'create', '--network', networkA.id]);
    expect(create.err).toContain(`error: NOT_FOUND: network ${networkA.id} not found`);
    const onBehalf = await api.cli(b, ['network', 'create', '--tenant', 'tenant-a']);
    expect(onBehalf.err).toContain('error: PERMISSION_DENIED: tenant tenant-b may not create resources for tenant tenant-a');
    // Still there for its owner.
    const a = api.tokens['tenant-a']!;
    expect(await api.json<{ id: string }>(a, ['port', 'show', portA.id])).toMatchObject({ id: portA.id });
  });

  it("does not show another tenant's events", async () => {
    const b = api.tokens['tenant-b']!;
    type Events = { events: { tenant: string; type: string }[] };
    expect((await api.json<Events>(b, ['events', 'list'])).events).toEqual([]);
    const seenByA = (await api.json<Events>(api.tokens['tenant-a']!, ['events', 'list'])).events;
    expect(seenByA.map((e) => e.type)).toEqual(['ipam.NetworkCreated', 'ipam.SubnetCreated', 'ipam.PortCreated']);
    expect(new Set(seenByA.map((e) => e.tenant))).toEqual(new Set(['tenant-a']));
  });

  it('rejects a missing or unknown token', async () => {
    const none = await api.cli('', ['network', 'list']);
    expect(none.code).not.toBe(0);
    expect(none.err).toMatch(/UNAUTHENTICATED|token/i);
    const bad = await api.cli('not-a-token', ['network', 'list']);
    expect(bad.err).toMatch(/error: UNAUTHENTICATED: /);
  });
});
