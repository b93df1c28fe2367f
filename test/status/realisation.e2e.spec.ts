/**
 * Issue 15, realisation status with real packets: the lab's control plane
 * (hostview, the status service) and one real agent per hypervisor. A port
 * is reported ACTIVE through the status service only when a VM on another
 * host reaches it (checked with one ping at that moment, no retry); an
 * agent that stops takes its ports DOWN within the liveness timeout, and
 * ACTIVE again when it is started again; a security group's rule is
 * "applied on 2 of 2" only when both hosts' nftables have it; the write
 * barrier at a command's position is realised once every host applied it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realisedTenantFilter, type NetworkView, type PortStatusView, type StatusChange, type SubnetView } from '@strata/contracts';
import { Lab, type Principal, type Vm } from '@strata/lab';
import { waitFor } from '@strata/testing';
import { describeIf, kernel } from '@strata/testing/suites';

const TIMEOUT_MS = 3_000;
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
    // Heartbeats well within the (shortened) liveness timeout, as in production (5 s of 15 s).
    lab = await Lab.start({ hypervisors: 2, env: { STATUS_AGENT_TIMEOUT_MS: String(TIMEOUT_MS), AGENT_HEARTBEAT_MS: String(TIMEOUT_MS / 6) } });
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
    vm.a = await boot('a', 'hv1');
    vm.b = await boot('b', 'hv2');
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
    await until(vm.b.port.id, 'ACTIVE', 'port b ACTIVE');
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

  it('reports a security-group rule "applied on 2 of 2" only once each host\'s nftables has it', async () => {
    const g = await lab.secgroup.command('group.create', { name: 'web' }, who);
    for (const v of [vm.a!, vm.b!]) await lab.secgroup.command('port.setGroups', { portId: v.port.id, groupIds: [g.id] }, who);
    await lab.secgroup.command('rule.create', { groupId: g.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 7777, portMax: 7777 }, who);
    // The reads carry the rule's position (read-your-writes): hostview's answer includes the change.
    let r = await lab.status.query('resource.realisation', { kind: 'security-group', id: g.id }, who);
    while (!r.realised) r = await lab.status.query('resource.realisation', { kind: 'security-group', id: g.id }, who);
    // At that moment, not eventually: every host holding the group has the rule in its kernel.
    const tables = await Promise.all(lab.hosts.map((h) => h.ns.exec(['nft', 'list', 'table', 'inet', 'strata'])));
    expect(r).toMatchObject({ kind: 'security-group', id: g.id, hosts: 2, applied: 2, behind: [] });
    for (const t of tables) expect(t).toMatch(/dport 7777/);
    // Out of the group again (unfiltered), for the pings that follow.
    for (const v of [vm.a!, vm.b!]) await lab.secgroup.command('port.setGroups', { portId: v.port.id, groupIds: [] }, who);
  });

  it('realises the write barrier at a command\'s position once every host applied it', async () => {
    const port = await lab.ipam.command('port.create', { networkId: net.id, name: 'w', hostId: 'hv2' }, who);
    const position = lab.ipam.lastSeq;
    expect(position).toBeGreaterThan(0);
    await waitFor(async () => (await lab.status.query('barrier', { position })).realised, { timeoutMs: 30_000, message: 'barrier realised' });
    const b = await lab.status.query('barrier', { position });
    expect(b).toMatchObject({ position, realised: true, behind: [], hosts: 2 });
    expect(port.id).toBeDefined();
  });

  it('takes a stopped agent\'s ports DOWN within the timeout, and ACTIVE again when it starts again', async () => {
    const hv1 = lab.host('hv1');
    await hv1.agent!.stop();
    const down = await until(vm.a!.port.id, 'DOWN', 'port a DOWN');
    expect(down.reason).toMatch(/^agent on hv1 down since /);
    expect(await lab.status.query('hypervisor.get', { id: 'hv1' })).toMatchObject({ alive: false, registered: true });
    // Its peer on hv2 is not held in BUILD by a dead host.
    expect((await status(vm.b!.port.id)).status).toBe('ACTIVE');

    await lab.startAgent(hv1);
    await until(vm.a!.port.id, 'ACTIVE', 'port a ACTIVE again');
    expect(await vm.b!.pingOnce(vm.a!.ip)).toBe(true);
    expect(await lab.status.query('hypervisor.get', { id: 'hv1' })).toMatchObject({ alive: true });
  });
});
