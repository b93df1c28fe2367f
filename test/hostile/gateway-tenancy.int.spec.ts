/**
 * Gateway devices and bindings (issue 19) through the real `strata` CLI,
 * the real API and IPAM behind the production NATS users: the admin
 * creates devices and grants ports, tenants bind their own networks on
 * their own ports, and tenant B's every attempt to cross into tenant A —
 * binding A's network, binding on a port granted to A, reading, moving or
 * deleting A's binding, creating a device — is refused with nothing written.
 * With hostview running, a binding on the gateway host reaches the host
 * views: the gateway host's l2gw key and network, the hypervisor's flood list;
 * and what the gateway host's agent reports its bridge learned behind the
 * VLAN reaches the hypervisor's view (not its own), while a report from
 * another agent, or naming another reporter, is refused with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayMacsSubject, hostviewBucket, type GatewayBindingView as Binding, type GatewayMacsObservation } from '@strata/contracts';
import { waitFor } from '@strata/testing';
import { startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

interface Resource {
  id: string;
}
/** A device as the CLI prints it (-o json: the gRPC message). */
interface Device extends Resource {
  kind: string;
  vtepIp: string;
  hostId?: string;
  ports: Array<{ name: string; tenant?: string }>;
}

describe('gateway devices and bindings across the tenant boundary', () => {
  let t: TenantPlane;
  let gw: Device;
  let tor: Device;
  let netA: Resource;
  let netB: Resource;
  let bindingA: Binding;

  beforeAll(async () => {
    t = await startTenantPlane(['tenant-a', 'tenant-b'], { agents: ['gw1', 'hv1'], hostview: true });
    const pool = await t.json<Resource>('admin', ['pool', 'create', '--cidr', '203.0.113.0/24', '--purpose', 'host-ip']);
    await t.json('admin', ['hypervisor', 'register', 'gw1', '--vtep-ip', '198.18.0.11', '--host-pool', pool.id]);
    await t.json('admin', ['hypervisor', 'register', 'hv1', '--vtep-ip', '198.18.0.21', '--host-pool', pool.id]);
    gw = await t.json('admin', ['gateway-device', 'create', '--kind', 'host', '--name', 'gw1', '--host', 'gw1', '--port', 'trunk0=tenant-a', '--port', 'trunk1=tenant-b', '--port', 'spare']);
    tor = await t.json('admin', [
      'gateway-device', 'create', '--kind', 'evpn', '--name', 'tor1', '--vtep-ip', '198.18.0.40', '--bgp-address', '198.18.0.40', '--remote-as', '65040', '--port', 'swp1=tenant-a',
    ]);
    netA = await t.json('tenant-a', ['network', 'create', '--name', 'a']);
    netB = await t.json('tenant-b', ['network', 'create', '--name', 'b']);
    bindingA = await t.json('tenant-a', ['gateway-binding', 'create', '--device', gw.id, '--port', 'trunk0', '--vlan', '100', '--network', netA.id]);
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
  });

  it("reaches the host views: the gateway host gets the network and an l2gw key, the network's hypervisors flood to it", async () => {
    await t.json('tenant-a', ['port', 'create', '--network', netA.id, '--host', 'hv1']);
    const kv = async (host: string) => (await t.admin.jetstream().views.kv(hostviewBucket(host), { bindOnly: true }));
    const value = async (host: string, key: string): Promise<unknown> => {
      const e = await (await kv(host)).get(key);
      return e?.operation === 'PUT' ? e.json() : undefined;
    };
    await waitFor(async () => (await value('gw1', `gw1.l2gw.${bindingA.id}`)) !== undefined, { timeoutMs: 30_000, intervalMs: 100, message: 'the l2gw key' });
    expect(await value('gw1', `gw1.l2gw.${bindingA.id}`)).toEqual({ id: bindingA.id, networkId: netA.id, nic: 'trunk0', vlan: 100 });
    expect(await value('gw1', `gw1.net.${netA.id}`)).toMatchObject({ vni: bindingA.vni, floodVteps: ['198.18.0.21'] });
    await waitFor(async () => ((await value('hv1', `hv1.net.${netA.id}`)) as { floodVteps?: string[] } | undefined)?.floodVteps?.includes('198.18.0.11') === true, {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: "the gateway host's VTEP in the hypervisor's flood list",
    });
  });

  it('the admin creates devices and tenants bind their own networks on their own ports, each seeing only its own', async () => {
    expect(gw).toMatchObject({ kind: 'GATEWAY_DEVICE_KIND_HOST', vtepIp: '198.18.0.11', hostId: 'gw1' });
    expect(bindingA).toMatchObject({ tenant: 'tenant-a', deviceId: gw.id, port: 'trunk0', vlan: 100, networkId: netA.id, revision: 1 });
    // The same VLAN on B's port of the same NIC set: B's own binding.
    const bindingB = await t.json<Binding>('tenant-b', ['gateway-binding', 'create', '--device', gw.id, '--port', 'trunk1', '--vlan', '100', '--network', netB.id]);
    expect(bindingB.vni).not.toBe(bindingA.vni);
    // A tenant sees the devices it has ports on, and only those ports.
    const seenByA = await t.json<{ items: Device[] }>('tenant-a', ['gateway-device', 'list']);
    expect(seenByA.items.map((d) => [d.id, d.ports.map((p) => p.name)]).sort()).toEqual([[gw.id, ['trunk0']], [tor.id, ['swp1']]].sort());
    const seenByB = await t.json<{ items: Device[] }>('tenant-b', ['gateway-device', 'list']);
    expect(seenByB.items.map((d) => [d.id, d.ports.map((p) => p.name)])).toEqual([[gw.id, ['trunk1']]]);
    expect((await t.json<{ items: Binding[] }>('tenant-b', ['gateway-binding', 'list'])).items.map((b) => b.id)).toEqual([bindingB.id]);
    // The admin moves a binding; the tenant deletes its own.
    const moved = await t.json<Binding>('admin', ['gateway-binding', 'move', bindingB.id, '--device', gw.id, '--port', 'trunk1', '--vlan', '300']);
    expect(moved).toMatchObject({ vlan: 300, revision: 2 });
    await t.json('tenant-b', ['gateway-binding', 'delete', bindingB.id]);
    // Bad input: a clear error, nothing written.
    for (const [argv, message] of [
      [['gateway-binding', 'create', '--device', gw.id, '--port', 'trunk0', '--vlan', '4095', '--network', netA.id], 'vlan: must be a VLAN id 1-4094'],
      [['gateway-binding', 'create', '--device', gw.id, '--port', 'trunk0', '--vlan', '100', '--network', netA.id], 'VLAN 100 of port trunk0 of gateway device'],
      [['gateway-binding', 'create', '--device', '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b', '--port', 'trunk0', '--vlan', '7', '--network', netA.id], 'gateway device 3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b not found'],
      [['network', 'delete', netA.id], 'is bound to 1 gateway VLAN'],
    ] as Array<[string[], string]>) {
      await t.expectRefused('tenant-a', argv, message);
    }
    await t.expectRefused('admin', ['gateway-device', 'delete', gw.id], 'still has 1 binding');
  });

  it("tenant B cannot bind A's network, bind on A's port, read, move or delete A's binding, or manage devices: refused, nothing written", async () => {
    const before = await t.json<Binding>('tenant-a', ['gateway-binding', 'show', bindingA.id]);
    const attacks: Array<[string[], string]> = [
      [['gateway-binding', 'create', '--device', gw.id, '--port', 'trunk1', '--vlan', '200', '--network', netA.id], `network ${netA.id} not found`],
      [['gateway-binding', 'create', '--device', gw.id, '--port', 'trunk0', '--vlan', '200', '--network', netB.id], 'may not bind on port trunk0'],
      [['gateway-binding', 'create', '--device', gw.id, '--port', 'spare', '--vlan', '200', '--network', netB.id], 'may not bind on port spare'],
      [['gateway-binding', 'create', '--device', tor.id, '--port', 'swp1', '--vlan', '200', '--network', netB.id], `gateway device ${tor.id} not found`],
      [['gateway-binding', 'show', bindingA.id], `gateway binding ${bindingA.id} not found`],
      [['gateway-binding', 'move', bindingA.id, '--device', gw.id, '--port', 'trunk1', '--vlan', '200'], 'moving a gateway binding needs an admin token'],
      [['gateway-binding', 'delete', bindingA.id], `gateway binding ${bindingA.id} not found`],
      [['gateway-device', 'show', tor.id], `gateway device ${tor.id} not found`],
      [['gateway-device', 'delete', gw.id], 'deleting a gateway device needs an admin token'],
      [['gateway-device', 'create', '--kind', 'host', '--host', 'gw1', '--port', 'eth9'], 'creating a gateway device needs an admin token'],
    ];
    for (const [argv, message] of attacks) await t.expectRefused('tenant-b', argv, message);
    // The audit too: B cannot read A's binding's past; A can (the view as IPAM answers it).
    const now = String(await t.lastSeq());
    await t.expectRefused('tenant-b', ['audit', 'show', 'gateway-binding', bindingA.id, '--at', now], `gateway-binding ${bindingA.id} not found`);
    const audited = await t.json<{ viewJson: string }>('tenant-a', ['audit', 'show', 'gateway-binding', bindingA.id, '--at', now]);
    expect(JSON.parse(audited.viewJson)).toMatchObject({ id: bindingA.id, tenant: 'tenant-a', port: 'trunk0', vlan: 100 });
    const list = await t.json<{ items: Binding[] }>('tenant-b', ['gateway-binding', 'list', '--device', gw.id]);
    expect(list.items.map((b) => b.id)).not.toContain(bindingA.id);
    expect(await t.json('tenant-a', ['gateway-binding', 'show', bindingA.id])).toEqual(before);
  });

  it("a gateway host's learned MACs reach the hypervisor's view, not its own; another agent's report is refused, nothing written", async () => {
    const CUSTOMER = '02:cc:00:00:00:50';
    const kv = async (host: string) => await t.admin.jetstream().views.kv(hostviewBucket(host), { bindOnly: true });
    const value = async (host: string, key: string): Promise<unknown> => {
      const e = await (await kv(host)).get(key);
      return e?.operation === 'PUT' ? e.json() : undefined;
    };
    const ipamLog = (): string => t.cp.processes.filter((p) => p.name.startsWith('ipam')).map((p) => p.output()).join('\n');
    const ignored = (reason: string): boolean => ipamLog().split('\n').some((l) => l.includes('gateway MAC report ignored') && l.includes(`"reason":"${reason}"`));
    const macs = (hostId: string): GatewayMacsObservation => ({ hostId, bindings: [{ bindingId: bindingA.id, macs: [{ mac: CUSTOMER, ips: ['10.0.0.50'] }] }] });
    const hv1 = await t.cp.connectAs('agent-hv1');
    const gw1 = await t.cp.connectAs('agent-gw1');
    try {
      const before = await t.lastSeq();
      // hv1 is no gateway device; and a report naming gw1 on hv1's subject is hv1's, not gw1's.
      hv1.publish(gatewayMacsSubject('hv1'), JSON.stringify(macs('hv1')));
      hv1.publish(gatewayMacsSubject('hv1'), JSON.stringify(macs('gw1')));
      await hv1.flush();
      await waitFor(() => ignored('not-a-gateway-host') && ignored('reporter-mismatch'), { timeoutMs: 15_000, message: 'IPAM judged both reports' });
      expect(await t.lastSeq()).toBe(before);
      // The gateway host's own report: one MAC with one address, one event.
      gw1.publish(gatewayMacsSubject('gw1'), JSON.stringify(macs('gw1')));
      await gw1.flush();
      const key = `hv1.ep.phys-${gw.id}-${bindingA.vni}-02cc00000050`;
      await waitFor(async () => (await value('hv1', key)) !== undefined, { timeoutMs: 30_000, intervalMs: 100, message: "the customer router's MAC in the hypervisor's view" });
      expect(await value('hv1', key)).toMatchObject({ mac: CUSTOMER, ips: ['10.0.0.50'], networkId: netA.id, vtep: '198.18.0.11' });
      expect(await t.lastSeq()).toBe(before + 1);
      expect(await value('gw1', `gw1.ep.phys-${gw.id}-${bindingA.vni}-02cc00000050`)).toBeUndefined();
      // Unbinding withdraws it (IPAM's sweep), though the gateway host reports nothing more.
      await t.json('tenant-a', ['gateway-binding', 'delete', bindingA.id]);
      await waitFor(async () => (await value('hv1', key)) === undefined, { timeoutMs: 30_000, intervalMs: 100, message: "the customer router's MAC withdrawn with the binding" });
    } finally {
      await hv1.close();
      await gw1.close();
    }
  });
});
