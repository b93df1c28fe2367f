/**
 * Updates end to end: `strata <resource> update` → gRPC Update<Resource> →
 * NATS → IPAM. Only the options given change; show prints the revision; a
 * stale --expected-revision and a bad address are refused (exit 1, the
 * server's message) and change nothing.
 */
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStrataProto } from '@strata/proto';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { startApi, type ApiHarness } from '../support/api.js';
import { startIpam, type IpamProcess } from '../support/ipam.js';

interface Port {
  id: string;
  name: string;
  description: string;
  adminStateUp: boolean;
  revision: number;
  fixedIps: { subnetId: string; ip: string }[];
  allowedAddressPairs: { ipAddress: string; macAddress: string }[];
}

describe('strata … update', () => {
  let nats: StrataNats;
  let ipam: IpamProcess;
  let api: ApiHarness;
  let token: string;
  let network: { id: string; revision: number };
  let subnet: { id: string };
  let port: Port;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    await ipam.ready;
    api = await startApi(nats.options('api'), ['tenant-a']);
    token = api.tokens['tenant-a']!;
    network = await api.json(token, ['network', 'create', '--name', 'web', '--description', 'the web tier']);
    subnet = await api.json(token, ['subnet', 'create', '--network', network.id, '--cidr', '10.0.0.0/24', '--dns-nameserver', '10.0.0.2']);
    port = await api.json(token, ['port', 'create', '--network', network.id, '--fixed-ip', 'ip=10.0.0.10', '--allowed-address-pair', 'ip=10.0.0.100']);
  });

  afterAll(async () => {
    await api?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('creates with the new fields and revision 1', () => {
    expect(network).toMatchObject({ description: 'the web tier', revision: 1 });
    expect(subnet).toMatchObject({ dnsNameservers: ['10.0.0.2'], hostRoutes: [], revision: 1 });
    expect(port).toMatchObject({ adminStateUp: true, description: '', revision: 1 });
  });

  it('changes only what is given; an update without changes keeps the revision', async () => {
    const updated = await api.json<Port>(token, ['port', 'update', port.id, '--name', 'web-1', '--disable', '--expected-revision', '1']);
    expect(updated).toMatchObject({ name: 'web-1', adminStateUp: false, revision: 2, fixedIps: port.fixedIps, allowedAddressPairs: port.allowedAddressPairs });
    const again = await api.json<Port>(token, ['port', 'update', port.id, '--name', 'web-1']);
    expect(again.revision).toBe(2);
    const moved = await api.json<Port>(token, ['port', 'update', port.id, '--fixed-ip', 'ip=10.0.0.11', '--no-allowed-address-pairs', '--enable']);
    expect(moved).toMatchObject({ fixedIps: [{ subnetId: subnet.id, ip: '10.0.0.11' }], allowedAddressPairs: [], adminStateUp: true, revision: 3 });
    const show = await api.cli(token, ['port', 'show', port.id]);
    expect(show.out).toMatch(/REVISION\W+3\b/);
    const s = await api.json<{ hostRoutes: unknown[]; dnsNameservers: string[]; revision: number }>(token, [
      'subnet', 'update', subnet.id, '--host-route', 'destination=192.0.2.0/24,nexthop=10.0.0.254', '--no-dns-nameservers',
    ]);
    expect(s).toMatchObject({ hostRoutes: [{ destination: '192.0.2.0/24', nexthop: '10.0.0.254' }], dnsNameservers: [], revision: 2 });
    const n = await api.json<{ mtu: number; revision: number }>(token, ['network', 'update', network.id, '--mtu', '1400']);
    expect(n).toMatchObject({ mtu: 1400, revision: 2 });
  });

  it('refuses, over gRPC, an update naming a field that never changes (set in the proto3 message), changing nothing', async () => {
    const v1 = loadStrataProto().strata.v1;
    const target = `127.0.0.1:${api.server.port}`;
    const ports = new v1.PortService(target, credentials.createInsecure());
    const subnets = new v1.SubnetService(target, credentials.createInsecure());
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    const call = (f: (cb: (e: ServiceError | null) => void) => void) => new Promise<ServiceError | null>((resolve) => f((e) => resolve(e)));
    try {
      const before = await api.json<Port>(token, ['port', 'show', port.id]);
      const net = await call((cb) => ports.UpdatePort({ id: port.id, name: 'x', networkId: network.id }, md, cb));
      expect({ code: net?.code, details: net?.details }).toEqual({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/networkId: cannot be changed: a port lives on its network/) });
      const mac = await call((cb) => ports.UpdatePort({ id: port.id, mac: '02:00:00:00:00:42' }, md, cb));
      expect(mac?.details).toMatch(/mac: cannot be changed/);
      const cidr = await call((cb) => subnets.UpdateSubnet({ id: subnet.id, cidr: '10.0.0.0/24' }, md, cb));
      expect(cidr?.details).toMatch(/cidr: cannot be changed/);
      const zero = await call((cb) => ports.UpdatePort({ id: port.id, expectedRevision: 0 }, md, cb));
      expect(zero?.details).toMatch(/expectedRevision: must be a revision \(1 or more\)/);
      expect(await api.json<Port>(token, ['port', 'show', port.id])).toEqual(before);
    } finally {
      ports.close();
      subnets.close();
    }
  });

  it('refuses a stale --expected-revision and a fixed IP in no subnet, changing nothing', async () => {
    const before = await api.json<Port>(token, ['port', 'show', port.id]);
    const stale = await api.cli(token, ['port', 'update', port.id, '--name', 'x', '--expected-revision', '1']);
    expect(stale.code).toBe(1);
    expect(stale.err).toContain(`error: FAILED_PRECONDITION: port ${port.id} is at revision ${before.revision}, not the expected 1: read it again and retry`);
    const outside = await api.cli(token, ['port', 'update', port.id, '--fixed-ip', 'ip=10.0.1.5']);
    expect(outside.err).toMatch(/error: INVALID_ARGUMENT: address 10\.0\.1\.5 is in no subnet of network/);
    expect(await api.json<Port>(token, ['port', 'show', port.id])).toEqual(before);
  });
});
