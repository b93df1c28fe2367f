/**
 * Realisation status end to end: the CLI and the gRPC API over the real
 * status service, hostview and agents of a two-hypervisor lab (network
 * namespaces). A port created through the API with `--wait` returns only
 * once it is ACTIVE, and at that moment a VM on the other hypervisor
 * reaches it; an unbound port's waits end with their exit codes and
 * reasons; a security-group change is waited for by a tenant; the admin's
 * barrier and hypervisors answer from the agents' reports; a tenant's
 * WatchStatus streams its port going ACTIVE.
 */
import { Metadata, credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortView } from '@strata/contracts';
import { loadStrataProto, type StatusChange__Output } from '@strata/proto';
import { Lab, type Vm } from '@strata/lab';
import { waitFor } from '@strata/testing';
import { startApi, type ApiHarness } from '../support/api.js';

interface Created {
  id: string;
}
interface Subnet extends Created {
  cidr: string;
  gatewayIp: string;
}
interface Port extends Created {
  deviceId: string;
  status: string;
  statusReason: string;
}

describe('realisation status through the API and the CLI', () => {
  let lab: Lab;
  let api: ApiHarness;
  let a: string;
  let net: Created & { mtu: number };
  let subnet: Subnet;

  /** Boot a VM on the port (what Nova does once the port is bound), addresses configured statically. */
  async function boot(name: string, port: PortView, hostId: string): Promise<Vm> {
    const vm = await lab.addVm(name, port, hostId);
    await vm.configureStatic({ [subnet.id]: { prefixLength: 24, gatewayIp: subnet.gatewayIp, mtu: net.mtu } });
    return vm;
  }

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 2 });
    api = await startApi(lab.natsUsers.options('api'), ['tenant-a']);
    a = api.tokens['tenant-a']!;
    net = await api.json(a, ['network', 'create', '--name', 'n']);
    subnet = await api.json(a, ['subnet', 'create', '--network', net.id, '--cidr', '10.0.0.0/24']);
  });

  afterAll(async () => {
    await api?.stop();
    await lab?.destroy();
  });

  it('port create --wait returns once the port is ACTIVE, and at that moment a VM on the other hypervisor reaches it', async () => {
    const peer = await api.json<PortView>(a, ['port', 'create', '--network', net.id, '--host', 'hv2', '--device', 'vm-peer']);
    const peerVm = await boot('peer', peer, 'hv2');

    const creating = api.cli(a, ['port', 'create', '--network', net.id, '--host', 'hv1', '--device', 'vm-1', '--wait', '--timeout', '60s', '-o', 'json']);
    // The VM is plugged once its port exists, while the CLI waits.
    const port: PortView = await waitFor(
      async () => {
        const found = (await api.json<{ items: Array<PortView & { deviceId: string }> }>(a, ['port', 'list'])).items.find((p) => p.deviceId === 'vm-1');
        if (found === undefined) throw new Error('not listed yet');
        return found;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: 'the port of vm-1' },
    );
    const vm = await boot('vm1', port, 'hv1');
    const done = await creating;
    expect(done.code, done.err).toBe(0);
    // Checked at once: ACTIVE is never reported before the data plane carries the traffic.
    expect(await peerVm.pingOnce(vm.ip)).toBe(true);
    expect(done.err).toMatch(new RegExp(`realised: port ${port.id}: ACTIVE; applied on \\d of \\d hosts?`));
    expect(JSON.parse(done.out)).toMatchObject({ id: port.id });

    const shown = await api.json<Port>(a, ['port', 'show', port.id]);
    expect(shown).toMatchObject({ status: 'ACTIVE', statusReason: '' });
    const waited = await api.cli(a, ['wait', 'port', port.id, '--timeout', '10s']);
    expect(waited).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^port ${port.id}: ACTIVE`)) });
  });

  it("an unbound port: --wait says at once it cannot become ACTIVE (exit 4); strata wait times out with its reason (exit 3)", async () => {
    const created = await api.cli(a, ['port', 'create', '--network', net.id, '--wait']);
    expect(created.code).toBe(4);
    expect(created.err).toMatch(/error: NOT_REALISABLE: port \S+ cannot become ACTIVE: it is not bound to a hypervisor/);
    const unbound = (await api.json<{ items: Port[] }>(a, ['port', 'list'])).items.find((p) => p.status !== 'ACTIVE' && p.deviceId === '')!;
    expect(unbound).toMatchObject({ status: 'DOWN', statusReason: 'not bound to a hypervisor' });
    const r = await api.cli(a, ['wait', 'port', unbound.id, '--timeout', '2s']);
    expect(r.code).toBe(3);
    // Peers may hold its endpoint (applied on n of m); it is its own binding that is missing.
    expect(r.err.trim().split('\n').at(-1)).toMatch(new RegExp(`^error: TIMEOUT: not realised within 2s: port ${unbound.id}: DOWN \\(not bound to a hypervisor\\); (no host holds it|applied on)`));
  });

  it("a tenant's security-group rule --wait returns once every host holding the group has it", async () => {
    const group = await api.json<Created>(a, ['secgroup', 'create', '--name', 'web']);
    const vm1 = lab.vms.get('vm1')!;
    await api.json(a, ['port', 'set-groups', vm1.port.id, group.id, '--wait']);
    const r = await api.cli(a, ['secgroup', 'rule', 'create', group.id, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', '22', '--wait']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(new RegExp(`realised: security-group ${group.id}: applied on (\\d) of \\1 host`));
  });

  it("a tenant's WatchStatus streams its new port's status until ACTIVE", async () => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${a}`);
    const client = new (loadStrataProto().strata.v1.StatusService)(`127.0.0.1:${api.server.port}`, credentials.createInsecure());
    const call = client.WatchStatus({}, md);
    // Its end (our cancel, or a failure the wait below would time out on) is not an unhandled error.
    call.on('error', () => undefined);
    try {
      // The watch is live once a change reaches it: poke with a write until one does, then create and boot the port.
      const first = new Promise<void>((resolve) => call.once('data', () => resolve()));
      const seen: StatusChange__Output[] = [];
      call.on('data', (c: StatusChange__Output) => seen.push(c));
      const group = await api.json<Created>(a, ['secgroup', 'create', '--name', 'poke']);
      await api.json(a, ['port', 'set-groups', lab.vms.get('vm1')!.port.id, group.id]);
      await first;
      const port = await api.json<PortView>(a, ['port', 'create', '--network', net.id, '--host', 'hv2', '--device', 'vm-w']);
      await boot('watched', port, 'hv2');
      await waitFor(() => seen.some((c) => c.kind === 'port' && c.id === port.id && c.realisation?.portStatus === 'ACTIVE'), {
        timeoutMs: 30_000,
        message: `a status change saying port ${port.id} is ACTIVE`,
      });
      expect(seen.every((c) => c.tenant === 'tenant-a')).toBe(true);
    } finally {
      call.cancel();
      client.close();
    }
  });

  it("the admin's barrier and hypervisors answer from the agents' reports", async () => {
    const created = await api.cli(api.tokens.admin, ['network', 'create', '--tenant', 'tenant-a', '--name', 'm', '--wait']);
    expect(created.code, created.err).toBe(0);
    expect(created.err).toMatch(/realised: position \d+: /);
    const list = await api.json<{ items: Array<{ id: string; agent?: { alive: boolean; appliedPosition?: string; version?: string } }> }>(api.tokens.admin, ['hypervisor', 'list']);
    expect(list.items.map((h) => [h.id, h.agent?.alive])).toEqual([
      ['hv1', true],
      ['hv2', true],
    ]);
    for (const h of list.items) expect(Number(h.agent?.appliedPosition)).toBeGreaterThan(0);
  });
});
