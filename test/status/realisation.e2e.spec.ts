/**
 * Realisation status with real packets (issue 15): three hypervisors, one
 * tenant network, anchor VMs on hv2 and hv3.
 *
 * - ACTIVE means usable: the VM's NIC is plugged and addressed on hv1 while
 *   its port is unbound, then the port is bound; the moment the status
 *   service publishes ACTIVE, one ping (one packet, 1 s) from a VM on
 *   another hypervisor must answer. Nothing else waits or retries.
 * - A rule change is "applied on n of m" only where the kernel has it: with
 *   hv3's agent frozen (SIGSTOP) the group's realisation is 2 of 3 with hv3
 *   behind, and hv3's nftables lacks the rule while hv1's and hv2's have it;
 *   thawed, 3 of 3, and hv3 has it.
 * - A stopped agent: its ports go DOWN, its host is down (an event in the
 *   log); restarted, ACTIVE again (and an "up" event saying it restarted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscription } from 'nats';
import { JSONCodec } from 'nats';
import { aggregateSubject, JetStreamEventStore } from '@strata/eventlog';
import { hypervisorStatusAggregate, statusEvents, type PortStatusView, type PortView, type StatusChange } from '@strata/contracts';
import { eventually, Lab, sh, type Vm } from '@strata/lab';
import { tenantWithRouter, vmOn, type TenantSetup } from '../overlay/scenario.js';

const TENANT = 'tenant-status';
const json = JSONCodec<StatusChange>();

/** Statuses published for one port, in order, as they arrive. */
class PortWatch {
  readonly seen: PortStatusView[] = [];
  private waiters: Array<() => void> = [];
  constructor(private readonly sub: Subscription) {
    void (async () => {
      for await (const m of sub) {
        const change = json.decode(m.data);
        if (change.kind === 'port') this.seen.push(change.status);
        for (const w of this.waiters.splice(0)) w();
      }
    })();
  }
  /** Resolves with the first published status equal to `status`. */
  async first(status: PortStatusView['status'], timeoutMs = 60_000): Promise<PortStatusView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.seen.find((s) => s.status === status);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no ${status} within ${timeoutMs} ms; seen: ${JSON.stringify(this.seen.map((s) => [s.status, s.reason]))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 250);
      });
    }
  }
  stop(): void {
    this.sub.unsubscribe();
  }
}

const sgChain = (groupId: string): string => `sg_${groupId.replaceAll('-', '')}_in`;
const hasRule = async (lab: Lab, hostId: string, groupId: string, dport: number): Promise<boolean> => {
  const out = await sh(['ip', 'netns', 'exec', lab.host(hostId).ns.name, 'nft', 'list', 'chain', 'inet', 'strata', sgChain(groupId)]).catch(() => '');
  return out.includes(`dport ${dport}`);
};

describe('realisation status', () => {
  let lab: Lab;
  let t: TenantSetup;
  const anchors: Record<string, Vm> = {};

  beforeAll(async () => {
    // Short liveness for the test (production: 5 s heartbeats, 15 s timeout).
    lab = await Lab.start({ hypervisors: 3, env: { AGENT_HEARTBEAT_MS: '500', STATUS_AGENT_TIMEOUT_MS: '3000' } });
    t = await tenantWithRouter(lab, TENANT);
    anchors.hv2 = await vmOn(lab, t, 'anchor2', 0, 'hv2');
    anchors.hv3 = await vmOn(lab, t, 'anchor3', 0, 'hv3');
    await anchors.hv2.pingEventually(anchors.hv3.ip);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  const status = async (portId: string): Promise<PortStatusView> => (await lab.status.query('port.status', { ids: [portId] }, t.who)).items[0]!;

  it('reports ACTIVE only when a VM on another hypervisor already reaches the port', async () => {
    for (let i = 0; i < 5; i++) {
      const port: PortView = await lab.ipam.command('port.create', { networkId: t.nets[0]!.id, name: `p${i}`, hostId: null }, t.who);
      expect(await status(port.id)).toMatchObject({ status: 'DOWN', reason: expect.stringMatching(/not bound/) });
      // Nova's part first: the VM's NIC exists and is addressed; all that is missing is Strata's.
      const vm = await lab.addVm(`p${i}`, port, 'hv1');
      const subnet = t.subnets[0]!;
      await vm.configureStatic({ [subnet.id]: { prefixLength: 24, gatewayIp: subnet.gatewayIp, mtu: t.nets[0]!.mtu } });
      const watch = new PortWatch(lab.ipam.nc.subscribe(`strata.realised.${TENANT}.port.${port.id}`));
      try {
        await lab.ipam.command('port.bind', { id: port.id, hostId: 'hv1' }, t.who);
        await watch.first('ACTIVE');
        // At that moment, one packet from each other hypervisor's VM, no retry.
        expect(await anchors.hv2!.pingOnce(vm.ip)).toBe(true);
        expect(await anchors.hv3!.pingOnce(vm.ip)).toBe(true);
        expect(watch.seen.slice(0, -1).every((s) => s.status === 'BUILD' || s.status === 'DOWN')).toBe(true);
        expect(await status(port.id)).toMatchObject({ status: 'ACTIVE', hostId: 'hv1', realisation: { realised: true } });
      } finally {
        watch.stop();
      }
    }
  });

  it('counts a rule change as applied on a host only when that host’s nftables has it', async () => {
    const group = await lab.secgroup.command('group.create', { name: 'web' }, t.who);
    // Its members keep talking (pings in the next test): egress anything, ingress ICMP.
    await lab.secgroup.command('rule.create', { groupId: group.id, direction: 'egress', ethertype: 'IPv4' }, t.who);
    await lab.secgroup.command('rule.create', { groupId: group.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' }, t.who);
    for (const h of ['hv2', 'hv3']) {
      const port = lab.vms.get(h === 'hv2' ? 'anchor2' : 'anchor3')!.port;
      await lab.secgroup.command('port.setGroups', { portId: port.id, groupIds: [group.id] }, t.who);
    }
    const p0 = lab.vms.get('p0')!.port;
    await lab.secgroup.command('port.setGroups', { portId: p0.id, groupIds: [group.id] }, t.who);
    const realisation = () => lab.status.query('resource.realisation', { kind: 'security-group', id: group.id }, t.who);
    await eventually(async () => (await realisation()).realised, 'group realised on its three hosts', 120, 250);

    const hv3 = lab.host('hv3').agent!;
    process.kill(hv3.pid, 'SIGSTOP');
    try {
      await lab.secgroup.command('rule.create', { groupId: group.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 9000, portMax: 9000 }, t.who);
      await eventually(async () => (await realisation()).applied === 2, 'applied on hv1 and hv2', 120, 100);
      const r = await realisation();
      expect(r).toMatchObject({ hosts: 3, applied: 2, realised: false });
      expect(r.behind.map((b) => b.hostId)).toEqual(['hv3']);
      expect(await hasRule(lab, 'hv1', group.id, 9000)).toBe(true);
      expect(await hasRule(lab, 'hv2', group.id, 9000)).toBe(true);
      expect(await hasRule(lab, 'hv3', group.id, 9000)).toBe(false);
    } finally {
      process.kill(hv3.pid, 'SIGCONT');
    }
    await eventually(async () => (await realisation()).realised, 'applied on 3 of 3 after hv3 thawed', 120, 100);
    for (const h of ['hv1', 'hv2', 'hv3']) expect(await hasRule(lab, h, group.id, 9000)).toBe(true);
  });

  it('turns a stopped agent’s ports DOWN and records its host down; restarted, ACTIVE again', async () => {
    const port = anchors.hv3!.port;
    await lab.host('hv3').agent!.stop();
    await eventually(async () => (await status(port.id)).status === 'DOWN', 'anchor3 DOWN after its agent stopped', 120, 250);
    expect((await status(port.id)).reason).toMatch(/agent/);
    const hv = await lab.status.query('hypervisor.get', { id: 'hv3' }, { tenant: 'admin', admin: true });
    expect(hv).toMatchObject({ hostId: 'hv3', alive: false });

    await lab.startAgent(lab.host('hv3'));
    await eventually(async () => (await status(port.id)).status === 'ACTIVE', 'anchor3 ACTIVE after its agent restarted', 120, 250);
    await anchors.hv2!.pingEventually(anchors.hv3!.ip);

    const store = await JetStreamEventStore.open(lab.ipam.nc);
    const decisions: string[] = [];
    for await (const e of store.read({ subject: aggregateSubject(hypervisorStatusAggregate('hv3')) })) {
      const ev = statusEvents.decode(e);
      decisions.push('restarted' in ev.data ? `up${ev.data.restarted ? ' (restarted)' : ''}` : 'down');
    }
    expect(decisions.slice(-2)).toEqual(['down', 'up (restarted)']);
  });
});
