/**
 * Issue 15, the status service's answers with real agents and hostview (the
 * lab): a port's published changes (never the same state twice in a row; at
 * ACTIVE a VM on the other host reaches it), DOWN and why (unbound, not
 * plugged), another tenant's NotFound, and the write barrier at a command's
 * position. test/status/realisation.e2e.spec.ts covers ACTIVE after a bind,
 * a rule's "n of m" with a frozen agent, and a stopped agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realisedTenantFilter, type NetworkView, type PortStatusView, type StatusChange, type SubnetView } from '@strata/contracts';
import { Lab, type Principal, type Vm } from '@strata/lab';
import { waitFor } from '@strata/testing';
import { describeIf, kernel } from '@strata/testing/suites';

const who: Principal = { tenant: 'tenant-a', admin: false };

describeIf(kernel(['nft', '--version']))('realisation status with real agents', () => {
  let lab: Lab;
  let net: NetworkView;
  let subnet: SubnetView;
  const vm: Record<string, Vm> = {};
  /** Status changes of tenant-a as a watcher hears them (strata.realised.tenant-a.>). */
  const changes: StatusChange[] = [];

  const status = async (portId: string): Promise<PortStatusView> => (await lab.status.query('port.status', { ids: [portId] }, who)).items[0]!;
  const until = async (portId: string, wanted: PortStatusView['status'], message: string): Promise<PortStatusView> => {
    let last: PortStatusView | undefined;
    await waitFor(async () => (last = await status(portId)).status === wanted, { timeoutMs: 30_000, intervalMs: 20, message: `${message} (last: ${JSON.stringify(last)})` });
    return last!;
  };
  const boot = async (name: string, hostId: string): Promise<Vm> => {
    const port = await lab.ipam.command('port.create', { networkId: net.id, name, hostId }, who);
    const v = await lab.addVm(name, port, hostId);
    await v.configureStatic({ [subnet.id]: { prefixLength: 24, gatewayIp: subnet.gatewayIp, mtu: net.mtu } });
    return v;
  };

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 2 });
    net = await lab.ipam.command('network.create', { name: 'n' }, who);
    subnet = await lab.ipam.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/24' }, who);
    const watcher = await lab.natsUsers.connect('admin');
    watcher.subscribe(realisedTenantFilter(who.tenant), { callback: (_e, m) => changes.push(m.json<StatusChange>()) });
    await watcher.flush();
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('reports a port ACTIVE only when a VM on another host reaches it', async () => {
    // b first, and ACTIVE: the pinging side is ready, so what the ping checks is a's readiness alone.
    vm.b = await boot('b', 'hv2');
    await until(vm.b.port.id, 'ACTIVE', 'port b ACTIVE');
    vm.a = await boot('a', 'hv1');
    // Published as it happens: at the change to ACTIVE, b reaches a.
    const portA = vm.a.port.id;
    await waitFor(() => changes.some((c) => c.kind === 'port' && c.id === portA && c.status.status === 'ACTIVE'), { timeoutMs: 30_000, intervalMs: 5, message: 'port a ACTIVE published' });
    expect(await vm.b.pingOnce(vm.a.ip)).toBe(true);
    const published = changes.flatMap((c) => (c.kind === 'port' && c.id === portA ? [c.status] : []));
    expect(published.at(-1)).toMatchObject({ status: 'ACTIVE', reason: '' });
    // Only changes: never the same status (its realisation included, its position aside) twice in a row.
    const same = published.map((p) => JSON.stringify({ ...p, realisation: { ...p.realisation, seq: 0 } }));
    for (let i = 1; i < same.length; i++) expect(same[i]).not.toBe(same[i - 1]);
    const a = await until(vm.a.port.id, 'ACTIVE', 'port a ACTIVE');
    // At that moment, not eventually: ACTIVE is never reported before the data plane works.
    expect(await vm.b.pingOnce(vm.a.ip)).toBe(true);
    expect(a).toMatchObject({ hostId: 'hv1', reason: '' });
    expect(a.realisation.behind).toEqual([]);
    expect(await vm.a.pingOnce(vm.b.ip)).toBe(true);
  });

  it('says BUILD or DOWN with why before that, and DOWN for an unbound port', async () => {
    const unbound = await lab.ipam.command('port.create', { networkId: net.id, name: 'u' }, who);
    expect(await status(unbound.id)).toMatchObject({ status: 'DOWN', reason: 'not bound to a hypervisor', hostId: null });
    // Bound but no VM plugged: the agent reports no device.
    const bound = await lab.ipam.command('port.create', { networkId: net.id, name: 'v', hostId: 'hv1' }, who);
    const s = await until(bound.id, 'DOWN', 'port v DOWN (not plugged)');
    expect(s.reason).toMatch(/^device tap\w+ not present \(not plugged\) on hv1$/);
  });

  it('answers another tenant NotFound for the port', async () => {
    await expect(lab.status.query('port.status', { ids: [vm.a!.port.id] }, { tenant: 'tenant-b', admin: false })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('realises the write barrier at a command\'s position once every host applied it', async () => {
    const port = await lab.ipam.command('port.create', { networkId: net.id, name: 'w', hostId: 'hv2' }, who);
    const position = lab.ipam.lastSeq;
    expect(position).toBeGreaterThan(0);
    await waitFor(async () => (await lab.status.query('barrier', { position })).realised, { timeoutMs: 30_000, message: 'barrier realised' });
    const b = await lab.status.query('barrier', { position });
    expect(b).toMatchObject({ position, realised: true, behind: [], hosts: 2 });
    // At that moment hv2's agent has applied the view with the new port: it reports it (no device yet), not "not reported yet".
    expect(await status(port.id)).toMatchObject({ status: 'DOWN', hostId: 'hv2', reason: expect.stringMatching(/not plugged\) on hv2$/) });
  });
});
