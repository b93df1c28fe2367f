/**
 * The BGP gateway's configuration through the gRPC API and the `strata bgp`
 * CLI, against real NATS, IPAM and gateway processes (no gobgpd: the
 * configuration is Strata state first; the fabric tests in
 * services/bgp-gateway drive gobgpd and FRR).
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import type { AdvertisementView, ApplianceAssignmentView, BgpPeerView, BgpSettingsView, Page } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { loadStrataProto } from '@strata/proto';
import { IpamClient, startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { appendNat, startGateway, startIpam } from '../../services/bgp-gateway/src/test/support.js';
import { startApi, type ApiHarness } from '../support/api.js';

describe('strata bgp (API and CLI)', () => {
  let nats: StrataNats;
  let ipamProc: ManagedProcess;
  let gw: ManagedProcess;
  let api: ApiHarness;
  let nc: NatsConnection;
  let ipam: IpamClient;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipamProc = startIpam(nats.url, nats.env('ipam'));
    gw = startGateway(nats.url, 'bgp', { ...nats.env('bgp'), GOBGP_TARGET: 'unix:///nonexistent/gobgp.sock' });
    await Promise.all([ipamProc.ready, gw.ready]);
    api = await startApi(nats.options('api'), ['tenant-a']);
    // The test writes NAT's events as the NAT service does: as user nat.
    nc = await nats.connect('nat');
    ipam = new IpamClient(await nats.connect('api'));
  });

  afterAll(async () => {
    await ipam?.close();
    await nc?.close();
    await api?.stop();
    await gw?.stop();
    await ipamProc?.stop();
    await nats?.stop();
  });

  it('configures the gateway and shows what it advertises', async () => {
    const { admin } = api.tokens;
    expect(await api.json<BgpSettingsView>(admin, ['bgp', 'settings', 'set', '--local-as', '65000', '--router-id', '198.18.0.2'])).toEqual({
      localAs: 65000,
      routerId: '198.18.0.2',
      listenPort: 179,
    });
    const peer = await api.json<BgpPeerView>(admin, ['bgp', 'peer', 'create', '--name', 'tor', '--address', '198.18.0.1', '--remote-as', '65001', '--password-ref', 'tor-md5']);
    expect(peer).toMatchObject({ address: '198.18.0.1', remoteAs: 65001, passwordRef: 'tor-md5' });
    expect((await api.json<Page<BgpPeerView>>(admin, ['bgp', 'peer', 'list'])).items.map((p) => p.id)).toEqual([peer.id]);
    await api.json(admin, ['bgp', 'peergroup', 'create', '--name', 'fw', '--listen-range', '198.19.0.0/16', '--remote-as', '65100', '--max-prefixes', '4', '--send-default']);

    const pool = await ipam.command('pool.create', { name: 'ap', cidr: '198.51.100.128/26', purpose: 'application-prefix' });
    const ap = await ipam.command('appprefix.create', { poolId: pool.id, length: 30 });
    await api.json<ApplianceAssignmentView>(admin, ['bgp', 'appliance', 'assign', '--prefix', ap.id, '--device', 'fw-1']);
    expect((await api.json<Page<ApplianceAssignmentView>>(admin, ['bgp', 'appliance', 'list'])).items).toMatchObject([{ prefixId: ap.id, prefix: ap.prefix, deviceId: 'fw-1' }]);

    // A floating IP associated by NAT shows up as an advertisement via its hypervisor.
    const hostPool = await ipam.command('pool.create', { name: 'h', cidr: '203.0.113.128/26', purpose: 'host-ip' });
    await ipam.command('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.11', hostPoolId: hostPool.id });
    const net = await ipam.command('network.create', { name: 'n' });
    await ipam.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/24' });
    const port = await ipam.command('port.create', { networkId: net.id, name: 'vm', hostId: 'hv1' });
    const fipPool = await ipam.command('pool.create', { name: 'fip', cidr: '203.0.113.0/25', purpose: 'floating-ip' });
    const fip = await ipam.command('floatingip.create', { poolId: fipPool.id });
    await appendNat(await JetStreamEventStore.open(nc), fip.id, {
      type: 'nat.FloatingIpAssociated',
      data: { floatingIpId: fip.id, address: fip.address, portId: port.id, networkId: net.id, fixedIp: port.fixedIps[0]!.ip },
    });
    const advertised = await waitFor(
      async () => (await api.json<Page<AdvertisementView>>(admin, ['bgp', 'advertisement', 'list'])).items.find((a) => a.kind === 'floating-ip'),
      { timeoutMs: 15_000, intervalMs: 100, message: 'the floating IP advertised' },
    );
    expect(advertised).toEqual({ prefix: `${fip.address}/32`, nextHop: '198.18.0.11', kind: 'floating-ip', sourceId: fip.id });
    const table = await api.cli(admin, ['bgp', 'advertisement', 'list']);
    expect(table.out).toMatch(/PREFIX.*NEXT HOP.*KIND[\s\S]*198\.18\.0\.11.*floating-ip/);
  });

  it('refuses tenants and bad input with the right status', async () => {
    const denied = await api.cli(api.tokens['tenant-a']!, ['bgp', 'peer', 'list']);
    expect(denied.code).not.toBe(0);
    expect(denied.err).toMatch(/PERMISSION_DENIED|admin token/);
    const bad = await api.cli(api.tokens.admin, ['bgp', 'peer', 'create', '--name', 'x', '--address', '198.18.0.400', '--remote-as', '65001']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/address/);
  });

  it('updates a peer and a peer group through the API: revisions, a stale revision and the listen range refused, nothing written', async () => {
    const { admin } = api.tokens;
    const peer = (await api.json<Page<BgpPeerView>>(admin, ['bgp', 'peer', 'list'])).items[0]!;
    const updated = await api.json<BgpPeerView>(admin, ['bgp', 'peer', 'update', peer.id, '--remote-as', '65002', '--remove-password-ref', '--expected-revision', String(peer.revision)]);
    expect(updated).toMatchObject({ remoteAs: 65002, revision: peer.revision + 1 });
    expect(updated.passwordRef).toBeUndefined();
    const group = (await api.json<Page<{ id: string; revision: number }>>(admin, ['bgp', 'peergroup', 'list'])).items[0]!;
    expect(await api.json(admin, ['bgp', 'peergroup', 'update', group.id, '--send-default', 'off', '--max-prefixes', '8'])).toMatchObject({ sendDefault: false, maxPrefixes: 8, revision: group.revision + 1 });
    const store = await JetStreamEventStore.open(nc);
    const before = await store.lastSeq();
    const stale = await api.cli(admin, ['bgp', 'peer', 'update', peer.id, '--name', 'x', '--expected-revision', String(peer.revision)]);
    expect(stale.code).not.toBe(0);
    expect(stale.err).toContain(`FAILED_PRECONDITION: BGP peer ${peer.id} is at revision ${peer.revision + 1}, not the expected ${peer.revision}`);
    expect((await api.cli(admin, ['bgp', 'peer', 'show', peer.id])).out).toMatch(/REVISION\s+│\s+2\s/);
    expect(await store.lastSeq()).toBe(before);
  });

  it('refuses, through gRPC, a listen range or an address in an update by name, and a secret set and removed at once, writing nothing', async () => {
    const v1 = loadStrataProto().strata.v1;
    const client = new v1.BgpService(`127.0.0.1:${api.server.port}`, credentials.createInsecure());
    const md = new Metadata();
    md.set('authorization', `Bearer ${api.tokens.admin}`);
    const call = (method: 'UpdateBgpPeer' | 'UpdateBgpPeerGroup', req: object) =>
      new Promise<unknown>((resolve) => (client[method] as (r: object, m: Metadata, cb: (err: unknown) => void) => void)(req, md, (err) => resolve(err)));
    const peer = (await api.json<Page<BgpPeerView>>(api.tokens.admin, ['bgp', 'peer', 'list'])).items[0]!;
    const group = (await api.json<Page<{ id: string }>>(api.tokens.admin, ['bgp', 'peergroup', 'list'])).items[0]!;
    const store = await JetStreamEventStore.open(nc);
    const before = await store.lastSeq();
    expect(await call('UpdateBgpPeerGroup', { id: group.id, listenRange: '198.20.0.0/16' })).toMatchObject({
      details: "invalid request: listenRange: cannot be changed: a peer group's listen range is fixed at creation: create a group for the new range and delete this one",
    });
    expect(await call('UpdateBgpPeer', { id: peer.id, address: '198.18.0.9' })).toMatchObject({ details: expect.stringContaining("address: cannot be changed: a BGP peer's address is fixed") });
    expect(await call('UpdateBgpPeer', { id: peer.id, passwordRef: 'x', removePasswordRef: true })).toMatchObject({ details: 'give password_ref or remove_password_ref, not both' });
    expect(await store.lastSeq()).toBe(before);
    client.close();
  });
});
