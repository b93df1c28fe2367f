/**
 * Appliance failover end to end: an active-standby pair of firewall VMs
 * running keepalived (VRRP) shares a virtual IP (an allowed address pair of
 * both ports). The VRRP master's gratuitous ARPs make it the owner of the
 * VIP (agent → IPAM), which makes it the group's active member (chaining),
 * and every source host steers to it. Killing it: the standby's GARPs move
 * the redirect; with both down, fail-closed drops and fail-open bypasses.
 * A flow-hash member that fails its health check is taken out and comes
 * back after `rise` successes.
 *
 *   router: net0 (web on hv1, web3 on hv3), net1 (app on hv3), net2 (fwA on hv2, fwB on hv3)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chainingEvents, functionGroupAggregate, type ChainView, type SecurityGroupView } from '@strata/contracts';
import { aggregateSubject, JetStreamEventStore } from '@strata/eventlog';
import { eventually, Lab, type ManagedProcess, type Vm } from '@strata/lab';
import { describeIf, kernel } from '@strata/testing/suites';
import { vmOn, type TenantSetup } from '../overlay/scenario.js';
import { connects, listen } from '../secgroup/tcp.js';
import { applianceOn, delta, type Appliance } from './appliance.js';
import { chainingTenant, joinGroup } from './scenario.js';

const d = describeIf(kernel(['keepalived', '--version']));
const APP_PORT = 9000;
const VIP = '10.0.2.100';

d('appliance failover: VRRP pairs, health checks, fail-closed and fail-open', () => {
  let lab: Lab;
  let t: TenantSetup;
  let web: SecurityGroupView;
  const vm: Record<string, Vm> = {};
  const fw: Record<string, Appliance> = {};
  const fn: Record<string, string> = {};
  const servers: ManagedProcess[] = [];
  const vrrp = new Map<string, ChildProcess>();
  let dir: string;
  let classifierId: string;

  const chaining = () => lab.chaining!;
  const chain = (name: string, groupId: string): Promise<ChainView> =>
    chaining().command('chain.create', { name, routerId: t.routerId, groupIds: [groupId], classifierIds: [classifierId] }, t.who);
  const active = async (groupId: string) => (await chaining().query('group.get', { id: groupId }, t.who)).activeFunctionId;
  /** A new connection web → app that passes appliance `a` (and no other of the pair). */
  const through = async (a: Appliance, from = vm.web!): Promise<boolean> => {
    const before = await Promise.all(Object.values(fw).map((x) => x.counters()));
    if (!(await connects(from, vm.app!.ip, APP_PORT))) return false;
    const after = await Promise.all(Object.values(fw).map((x) => x.counters()));
    return Object.values(fw).every((x, i) => (delta(before[i]!, after[i]!).to_server! > 0) === (x === a));
  };

  function startVrrp(a: Appliance, priority: number): void {
    const conf = join(dir, `${a.vm.name}.conf`);
    writeFileSync(
      conf,
      `global_defs { router_id ${a.vm.name} }\nvrrp_instance V { state BACKUP\n interface eth0\n virtual_router_id 52\n priority ${priority}\n advert_int 1\n virtual_ipaddress { ${VIP}/24 }\n}\n`,
    );
    const argv = ['netns', 'exec', a.vm.ns.name, 'keepalived', '-n', '-l', '-G', '-P', '-f', conf, '-p', join(dir, `${a.vm.name}.pid`), '-r', join(dir, `${a.vm.name}.vrrp.pid`)];
    vrrp.set(a.vm.name, spawn('ip', argv, { stdio: 'ignore' }));
  }
  function stopVrrp(a: Appliance): void {
    const p = vrrp.get(a.vm.name);
    if (p?.pid !== undefined && p.exitCode === null) process.kill(p.pid, 'SIGTERM');
  }
  /** The appliance dies: its VRRP stops and its NIC goes down (no forwarding, no health-check answers). */
  async function kill(a: Appliance): Promise<void> {
    stopVrrp(a);
    await a.vm.ns.ip(['link', 'set', 'eth0', 'down']);
  }
  async function revive(a: Appliance): Promise<void> {
    await a.vm.ns.ip(['link', 'set', 'eth0', 'up']);
    await a.vm.ns.ip(['route', 'replace', 'default', 'via', t.subnets[2]!.gatewayIp!]);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-sfc-vrrp-'));
    lab = await Lab.start({ hypervisors: 3, chaining: true });
    ({ t, web } = await chainingTenant(lab));
    for (const [name, net, host] of [['web', 0, 'hv1'], ['web3', 0, 'hv3'], ['app', 1, 'hv3']] as const) vm[name] = await vmOn(lab, t, name, net, host);
    for (const name of ['web', 'web3']) await joinGroup(lab, t, vm[name]!, web.id);
    servers.push(await listen(vm.app!, [APP_PORT]));
    for (const [name, host] of [['fwA', 'hv2'], ['fwB', 'hv3']] as const) {
      fw[name] = await applianceOn(lab, t, name, 2, host, APP_PORT);
      await lab.ipam.command('port.setAllowedAddressPairs', { id: fw[name]!.vm.port.id, allowedAddressPairs: [{ ipAddress: VIP }] }, t.who);
      fn[name] = (
        await chaining().command(
          'function.create',
          { name, ingressPortId: fw[name]!.vm.port.id, virtualIp: VIP, healthCheck: { protocol: 'icmp', intervalMs: 300, timeoutMs: 200, rise: 2, fall: 2 } },
          t.who,
        )
      ).id;
    }
    classifierId = (
      await chaining().command(
        'classifier.create',
        { name: 'web-to-app', protocol: 'tcp', source: { groupId: web.id }, destination: { cidr: t.subnets[1]!.cidr }, destinationPorts: { min: APP_PORT, max: APP_PORT } },
        t.who,
      )
    ).id;
    await eventually(() => connects(vm.web!, vm.app!.ip, APP_PORT), 'web -> app direct');
  });

  afterAll(async () => {
    for (const p of vrrp.values()) if (p.pid !== undefined && p.exitCode === null) process.kill(p.pid, 'SIGTERM');
    await Promise.all(servers.map((s) => s.stop(2_000)));
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the VRRP master is active on every source host; its VRRP dying moves the redirect to the standby by the standby\'s GARP; a dead member is taken out by its health check; all down: fail-closed drops, fail-open bypasses', async () => {
    const pair = (await chaining().command('group.create', { name: 'pair', functionIds: [fn.fwB!, fn.fwA!], selection: 'active-standby' }, t.who)).id;
    const c = await chain('pair', pair);
    // fwA has the higher priority: it becomes master, and its GARPs make it active (the group named fwB first).
    startVrrp(fw.fwA!, 150);
    startVrrp(fw.fwB!, 100);
    await eventually(async () => (await active(pair)) === fn.fwA, 'fwA (VRRP master) active', 120);
    await eventually(() => through(fw.fwA!), 'web (hv1) through fwA');
    await eventually(() => through(fw.fwA!, vm.web3!), 'web3 (hv3) through fwA');

    // fwA's VRRP dies (the VM still answers its health check): fwB becomes master, its GARPs move the redirect.
    stopVrrp(fw.fwA!);
    await eventually(async () => (await active(pair)) === fn.fwB, 'fwB active after fwA stopped being master', 120);
    await eventually(() => through(fw.fwB!), 'web (hv1) through fwB');
    await eventually(() => through(fw.fwB!, vm.web3!), 'web3 (hv3) through fwB');
    // The failover is audited: each decision, its reason and the host that saw it are events of the group.
    const decisions = async (): Promise<Array<Record<string, unknown>>> => {
      const store = await JetStreamEventStore.open(lab.ipam.nc);
      const out: Array<Record<string, unknown>> = [];
      for await (const e of store.read({ subject: aggregateSubject(functionGroupAggregate(pair)) })) {
        const ev = chainingEvents.decode(e);
        if (ev.type === 'chaining.ActiveFunctionChanged') out.push(ev.data);
      }
      return out;
    };
    expect(await decisions()).toEqual([
      expect.objectContaining({ functionId: fn.fwB, reason: 'initial' }),
      expect.objectContaining({ functionId: fn.fwA, previousFunctionId: fn.fwB, reason: 'garp', observedBy: 'hv2' }),
      expect.objectContaining({ functionId: fn.fwB, previousFunctionId: fn.fwA, reason: 'garp', observedBy: 'hv3' }),
    ]);

    // fwB dies altogether: its health check fails, the healthy fwA takes over.
    await kill(fw.fwB!);
    await eventually(async () => (await active(pair)) === fn.fwA, 'fwA active after fwB died', 120);
    await eventually(() => through(fw.fwA!), 'web (hv1) through fwA again');
    expect((await decisions()).at(-1)).toMatchObject({ functionId: fn.fwA, previousFunctionId: fn.fwB, reason: 'health', observedBy: 'hv3' });

    // Both down: no active member; fail-closed drops the chain's flows .
    await kill(fw.fwA!);
    await eventually(async () => (await active(pair)) === null, 'no active member', 120);
    await eventually(async () => !(await connects(vm.web!, vm.app!.ip, APP_PORT)), 'fail-closed: web -> app dropped');
    await chaining().command('chain.delete', { id: c.id }, t.who);
    // The same pair as a fail-open group: the flows bypass the hop.
    const open = (await chaining().command('group.create', { name: 'pair-open', functionIds: [fn.fwA!, fn.fwB!], fallback: 'fail-open' }, t.who)).id;
    const c2 = await chain('pair-open', open);
    await eventually(() => connects(vm.web!, vm.app!.ip, APP_PORT), 'fail-open: web -> app bypasses');
    await chaining().command('chain.delete', { id: c2.id }, t.who);
  });

  it('a flow-hash member failing its health check is taken out; it is back after `rise` successes', async () => {
    await revive(fw.fwA!);
    await revive(fw.fwB!);
    const hash = (await chaining().command('group.create', { name: 'hash', functionIds: [fn.fwA!, fn.fwB!], selection: 'flow-hash' }, t.who)).id;
    // Health is checked where a chain needs it (its hosts have the member in a chain key): chain first, then both are
    // healthy again after the previous test killed them.
    const c = await chain('hash', hash);
    await eventually(async () => (await chaining().query('function.get', { id: fn.fwA! }, t.who)).healthy && (await chaining().query('function.get', { id: fn.fwB! }, t.who)).healthy, 'both healthy', 120);
    const seenBy = async (): Promise<Set<string>> => {
      const seen = new Set<string>();
      for (let i = 0; i < 12; i++) for (const [name, a] of Object.entries(fw)) if (await through(a)) seen.add(name);
      return seen;
    };
    await eventually(async () => (await seenBy()).size === 2, 'flows spread over fwA and fwB');
    // fwB stops answering its health check (its own ICMP input), but would still forward.
    await fw.fwB!.vm.ns.exec(['nft', '-f', '-'], { input: 'table inet hc {\n  chain probes {\n    type filter hook input priority 0;\n    icmp type echo-request drop\n  }\n}\n' });
    await eventually(async () => !(await chaining().query('function.get', { id: fn.fwB! }, t.who)).healthy, 'fwB unhealthy', 120);
    await eventually(async () => [...(await seenBy())].join() === 'fwA', 'every flow through fwA');
    await fw.fwB!.vm.ns.exec(['nft', 'delete', 'table', 'inet', 'hc']);
    await eventually(async () => (await chaining().query('function.get', { id: fn.fwB! }, t.who)).healthy, 'fwB healthy again', 120);
    await eventually(async () => (await seenBy()).size === 2, 'flows over both again');
    await chaining().command('chain.delete', { id: c.id }, t.who);
  });
});
