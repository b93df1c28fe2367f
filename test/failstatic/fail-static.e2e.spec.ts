/**
 * Fail static with real packets (issue 18; docs/architecture.md "Fail
 * static"): two hypervisors, one tenant router with two subnets, one
 * security group that opens ping and tcp/80 only, VMs on both hosts.
 *
 *   a (hv1, net0)  d (hv1, net1)      b (hv2, net0)  c (hv2, net1)
 *
 * hv2's agent reaches NATS through a relay (kernel-watch.ts TcpRelay): its
 * control connection as if it crossed hv2's underlay, so cutting hv2 from
 * the underlay cuts it from the control plane too.
 *
 * (a) NATS down: VMs keep talking (same host and over VXLAN), closed ports
 *     (tcp/84 always) stay closed, the agents say they fail static; NATS
 *     back: both live again, nothing was deleted in any namespace, a new rule
 *     converges. (c) rides on the same outage: hv1's agent is killed (-9)
 *     and started again while NATS is away; it waits, touching nothing, and
 *     converges by diff when NATS returns (one outage instead of two: CI time).
 * (b) hv2 cut from the underlay (link and control connection) for
 *     STRATA_FAILSTATIC_PARTITION_SECONDS (default 10; the 30 s is the
 *     fault tier's): hv2's VMs keep talking to each other, a rule made
 *     meanwhile reaches hv1 at once and hv2 on return, with only that group's
 *     chain rewritten.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityGroupView } from '@strata/contracts';
import { connect, type NatsConnection } from 'nats';
import { eventually, Lab, SecgroupClient, type Hypervisor, type ManagedProcess, type Vm } from '@strata/lab';
import { waitFor } from '@strata/testing';
import { tenantWithRouter, vmOn, type TenantSetup } from '../overlay/scenario.js';
import { connects, listen } from '../secgroup/tcp.js';
import { metric } from '../support/metrics.js';
import { kernelFingerprint, KernelWatch, TcpRelay } from './kernel-watch.js';

const PARTITION_SECONDS = Number(process.env['STRATA_FAILSTATIC_PARTITION_SECONDS'] ?? 10);

const failStatic = (h: Hypervisor): Promise<number> => metric(h.agent!, 'strata_agent_fail_static');
const passCount = (h: Hypervisor): Promise<number> => metric(h.agent!, 'strata_agent_applies_total');
const seconds = (from: number): string => ((Date.now() - from) / 1000).toFixed(1);

describe('fail static: agents keep the data plane while the control plane is lost', () => {
  let lab: Lab;
  let relay: TcpRelay;
  let t: TenantSetup;
  let group: SecurityGroupView;
  /** The test's own API connection: reconnecting for as long as NATS is away (the lab's gives up after ~20 s). */
  let api: NatsConnection;
  let secgroup: SecgroupClient;
  let hv1: Hypervisor;
  let hv2: Hypervisor;
  const vm: Record<string, Vm> = {};
  const listeners: ManagedProcess[] = [];

  const allow = (port: number) =>
    secgroup.command('rule.create', { groupId: group.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: port, portMax: port, remoteCidr: '0.0.0.0/0' }, t.who);

  /** Both agents live again after an outage, and each has made two passes since (the re-watched view's, then a periodic full one). */
  async function bothLiveAndResynced(hosts: Hypervisor[]): Promise<void> {
    await waitFor(async () => (await Promise.all(hosts.map(failStatic))).every((v) => v === 0), { timeoutMs: 60_000, intervalMs: 100, message: 'agents live again' });
    const before = await Promise.all(hosts.map(passCount));
    await waitFor(async () => (await Promise.all(hosts.map(passCount))).every((n, i) => n >= before[i]! + 2), { timeoutMs: 30_000, intervalMs: 100, message: 'two passes after the return' });
  }

  /** The traffic that must flow whatever the control plane does: same host (routed) on each, and across hosts. */
  async function expectTraffic(opts: { crossHost: boolean }): Promise<void> {
    expect(await vm.a!.pingOnce(vm.d!.ip)).toBe(true); // hv1, routed on the host
    expect(await vm.b!.pingOnce(vm.c!.ip)).toBe(true); // hv2, routed on the host
    expect(await connects(vm.c!, vm.b!.ip, 80)).toBe(true);
    expect(await connects(vm.c!, vm.b!.ip, 84)).toBe(false); // filtering holds on the host
    if (!opts.crossHost) return;
    expect(await vm.a!.pingOnce(vm.b!.ip)).toBe(true); // VXLAN, same subnet
    expect(await vm.a!.pingOnce(vm.c!.ip)).toBe(true); // VXLAN, routed
    expect(await connects(vm.a!, vm.b!.ip, 80)).toBe(true);
  }

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 2, agents: false });
    hv1 = lab.host('hv1');
    hv2 = lab.host('hv2');
    api = await connect({ ...lab.natsUsers.options('api'), name: 'fail-static-test', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    secgroup = new SecgroupClient(api, 15_000, lab.ipam.seq);
    relay = await TcpRelay.start(lab.nats.port);
    await lab.startAgent(hv1);
    await lab.startAgent(hv2, { NATS_URL: relay.url });
    t = await tenantWithRouter(lab, 'tenant-fs');
    group = await lab.secgroup.command('group.create', { name: 'svc', description: '' }, t.who);
    await lab.secgroup.command('rule.create', { groupId: group.id, direction: 'egress', ethertype: 'IPv4', protocol: 'any' }, t.who);
    await lab.secgroup.command('rule.create', { groupId: group.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remoteCidr: '0.0.0.0/0' }, t.who);
    await allow(80);
    for (const [name, net, host] of [['a', 0, 'hv1'], ['d', 1, 'hv1'], ['b', 0, 'hv2'], ['c', 1, 'hv2']] as const) {
      vm[name] = await vmOn(lab, t, name, net, host);
      await lab.secgroup.command('port.setGroups', { portId: vm[name]!.port.id, groupIds: [group.id] }, t.who);
      listeners.push(await listen(vm[name]!, [80, 81, 82, 83, 84]));
    }
    await vm.a!.pingEventually(vm.c!.ip);
    await vm.b!.pingEventually(vm.c!.ip);
    await eventually(() => connects(vm.a!, vm.b!.ip, 80), 'a -> b:80', 40);
    await eventually(async () => !(await connects(vm.a!, vm.b!.ip, 84)), 'a -> b:84 blocked', 40);
  });

  afterAll(async () => {
    await Promise.all(listeners.map((l) => l.stop(2_000)));
    await relay?.stop();
    await api?.close().catch(() => undefined);
    await lab?.destroy();
  });

  it('(a)+(c) NATS down, hv1\'s agent killed (-9) and started again meanwhile: VMs keep talking and filtering holds, nothing is flushed; back: a change converges', async () => {
    const before = await kernelFingerprint(lab);
    const watch = await KernelWatch.start(lab);
    const hv1Agent = hv1.agent!;
    await lab.nats.kill9();
    // (a) the running agent (hv2) says it fails static.
    await waitFor(async () => (await failStatic(hv2)) === 1 && (await failStatic(hv1)) === 1, { timeoutMs: 30_000, intervalMs: 100, message: 'both agents failing static' });
    expect(hv2.agent!.output()).toContain('control plane lost: failing static');
    // (c) hv1's agent crashes and comes back while NATS is still away: it waits, touching nothing.
    await hv1Agent.kill9();
    const starting = lab.startAgent(hv1);
    starting.catch(() => undefined);
    await waitFor(() => hv1.agent!.output().includes('NATS unreachable: waiting'), { timeoutMs: 30_000, intervalMs: 100, message: 'the new agent waiting for NATS' });
    await expectTraffic({ crossHost: true });
    expect(await kernelFingerprint(lab)).toEqual(before);

    await lab.nats.restart();
    const back = Date.now();
    await starting;
    await bothLiveAndResynced([hv1, hv2]);
    const resynced = seconds(back);
    // Converged by diff: not one deletion in any namespace across the outage, the restart and the resync; same objects, same handles.
    expect(await watch.stop()).toEqual([]);
    expect(await kernelFingerprint(lab)).toEqual(before);
    expect(hv2.agent!.output()).toContain('control plane back');

    const change = Date.now();
    await allow(81);
    await eventually(async () => (await connects(vm.a!, vm.b!.ip, 81)) && (await connects(vm.b!, vm.a!.ip, 81)), 'tcp/81 open both ways', 80);
    console.log(`[fail-static] (a)+(c) NATS back -> both agents (one restarted meanwhile) live and resynced in ${resynced} s; rule -> tcp/81 open on both hosts in ${seconds(change)} s`);
    await expectTraffic({ crossHost: true });
  });

  it(`(b) hv2 cut from the underlay for ${PARTITION_SECONDS} s keeps its VMs talking locally; a change made meanwhile converges on return`, async () => {
    const watch = await KernelWatch.start(lab);
    const before = await kernelFingerprint(lab);
    const cut = Date.now();
    const heal = async (): Promise<void> => {
      await lab.fabric.ip(['link', 'set', 'hv2', 'up']);
      await relay.restore();
    };
    await lab.fabric.ip(['link', 'set', 'hv2', 'down']);
    await relay.cut();
    let change = 0;
    try {
      await waitFor(async () => (await failStatic(hv2)) === 1, { timeoutMs: 30_000, intervalMs: 100, message: 'hv2 failing static' });
      expect(await vm.a!.pingOnce(vm.b!.ip)).toBe(false); // the cut is real
      await expectTraffic({ crossHost: false });

      // A change while hv2 is away: hv1 applies it at once; hv2 still filters with what it has.
      change = Date.now();
      await allow(82);
      await eventually(() => connects(vm.d!, vm.a!.ip, 82), 'd -> a:82 on hv1 during the partition', 80);
      expect(await connects(vm.c!, vm.b!.ip, 82)).toBe(false);
      const unchanged = await kernelFingerprint(lab);
      for (const ns of Object.keys(before).filter((n) => n.startsWith('hv2'))) expect(unchanged[ns]).toEqual(before[ns]);
      await waitFor(() => Date.now() - cut >= PARTITION_SECONDS * 1000, { timeoutMs: PARTITION_SECONDS * 1000 + 1_000, intervalMs: 200, message: 'the partition to last' });
      await expectTraffic({ crossHost: false });
    } catch (err) {
      await heal();
      throw err;
    }

    await heal();
    const back = Date.now();
    await eventually(() => connects(vm.a!, vm.c!.ip, 82), 'a (hv1) -> c (hv2):82 after the return', 120);
    const converged = seconds(back);
    await bothLiveAndResynced([hv2]);
    await expectTraffic({ crossHost: true });
    // The only deletions: the changed group's rules, rewritten by diff (hv1 during the partition, hv2 on return).
    const deletions = await watch.stop();
    expect(deletions.filter((l) => !/: delete rule inet strata sg_\S+ handle \d+$/.test(l))).toEqual([]);
    console.log(`[fail-static] (b) partition ${seconds(cut)} s in all; rule made ${((back - change) / 1000).toFixed(1)} s before the return; underlay back -> a -> c:82 in ${converged} s`);
  });
});
