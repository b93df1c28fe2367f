/**
 * Security groups end to end through the whole stack (API contract → secgroup
 * → event log → hostview → agents → nftables), with real TCP between VM
 * namespaces on three hypervisors: the three-tier example.
 *
 *   web (W1 hv1, W2 hv2; W3 hv2 joins later)  ingress tcp/443 from anywhere
 *   app (A1 hv1, A2 hv2)          ingress tcp/9000 from members of web
 *   db  (D1 hv3)                  ingress tcp/5432 from members of app
 *   C   (hv3, tenant default group: egress anything, ingress only from its own group)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityGroupView } from '@strata/contracts';
import { eventually, Lab, type ManagedProcess, type Vm } from '@strata/lab';
import { tenantWithRouter, vmOn, type TenantSetup } from '../overlay/scenario.js';
import { connects, listen } from './tcp.js';

describe('three-tier security groups across hypervisors', () => {
  let lab: Lab;
  let t: TenantSetup;
  const vm: Record<string, Vm> = {};
  const listeners: ManagedProcess[] = [];
  let web: SecurityGroupView;
  let app: SecurityGroupView;
  let db: SecurityGroupView;
  let webToApp: string;

  async function group(name: string, rules: { port: number; remoteGroupId?: string; remoteCidr?: string }[]): Promise<SecurityGroupView> {
    const g = await lab.secgroup.command('group.create', { name, description: '' }, t.who);
    for (const ethertype of ['IPv4', 'IPv6'] as const) {
      await lab.secgroup.command('rule.create', { groupId: g.id, direction: 'egress', ethertype, protocol: 'any' }, t.who);
    }
    for (const r of rules) {
      const rule = await lab.secgroup.command(
        'rule.create',
        { groupId: g.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: r.port, portMax: r.port, ...(r.remoteGroupId ? { remoteGroupId: r.remoteGroupId } : {}), ...(r.remoteCidr ? { remoteCidr: r.remoteCidr } : {}) },
        t.who,
      );
      if (r.port === 9000) webToApp = rule.id;
    }
    return g;
  }

  const setGroups = (v: Vm, groupIds: string[]) => lab.secgroup.command('port.setGroups', { portId: v.port.id, groupIds }, t.who);

  /** Rule chains of every group on every host, with handles: what must not change when membership does. */
  async function groupChains(): Promise<string> {
    const out: string[] = [];
    for (const h of lab.hosts) {
      const table = await h.ns.exec(['nft', '-a', 'list', 'table', 'inet', 'strata']).catch(() => '');
      const chains = table.split(/\n(?=\tchain )/).filter((c) => /^\tchain sg_/.test(c));
      out.push(`${h.id}\n${chains.join('\n')}`);
    }
    return out.join('\n');
  }

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 3 });
    t = await tenantWithRouter(lab, 'tenant-a');
    web = await group('web', [{ port: 443, remoteCidr: '0.0.0.0/0' }]);
    app = await group('app', [{ port: 9000, remoteGroupId: web.id }]);
    db = await group('db', [{ port: 5432, remoteGroupId: app.id }]);
    const placement: [string, number, string][] = [
      ['w1', 0, 'hv1'], ['w2', 0, 'hv2'], ['w3', 1, 'hv2'],
      ['a1', 0, 'hv1'], ['a2', 1, 'hv2'],
      ['d1', 1, 'hv3'],
      ['c', 0, 'hv3'],
    ];
    for (const [name, net, host] of placement) vm[name] = await vmOn(lab, t, name, net, host);
    for (const n of ['w1', 'w2']) await setGroups(vm[n]!, [web.id]);
    for (const n of ['a1', 'a2']) await setGroups(vm[n]!, [app.id]);
    await setGroups(vm.d1!, [db.id]);
    // w3 starts outside web (in the tenant's default group), on a host where web is already realised; c stays there.
    for (const v of Object.values(vm)) listeners.push(await listen(v, [443, 9000, 5432]));
  });

  afterAll(async () => {
    await Promise.all(listeners.map((l) => l.stop(2_000)));
    await lab?.destroy();
  });

  it('allows exactly the three tiers, across hosts and subnets, with replies (stateful)', async () => {
    await eventually(() => connects(vm.c!, vm.w1!.ip, 443), 'c -> w1:443', 40);
    await eventually(() => connects(vm.w1!, vm.a2!.ip, 9000), 'w1 -> a2:9000', 40);
    await eventually(() => connects(vm.a1!, vm.d1!.ip, 5432), 'a1 -> d1:5432', 40);
    expect(await connects(vm.w2!, vm.a1!.ip, 9000)).toBe(true);
    expect(await connects(vm.a2!, vm.d1!.ip, 5432)).toBe(true);
  });

  it('denies everything else, including unsolicited reverse flows', async () => {
    expect(await connects(vm.c!, vm.a1!.ip, 9000)).toBe(false); // only web may reach app
    expect(await connects(vm.w1!, vm.d1!.ip, 5432)).toBe(false); // web may not skip a tier
    expect(await connects(vm.d1!, vm.a1!.ip, 9000)).toBe(false); // reverse of an allowed direction
    expect(await connects(vm.a1!, vm.w1!.ip, 9000)).toBe(false); // web does not listen to app
    expect(await connects(vm.c!, vm.w1!.ip, 9000)).toBe(false); // web opens 443 only
  });

  it('changes only set elements when a member joins: every group chain on every host is byte-identical', async () => {
    expect(await connects(vm.w3!, vm.a1!.ip, 9000)).toBe(false);
    const before = await groupChains();
    expect(before).toContain('chain sg_');
    // Join web, staying in the default group: a pure join (leaving a group is another change).
    const current = await lab.secgroup.query('port.get', { portId: vm.w3!.port.id }, t.who);
    await setGroups(vm.w3!, [...current.groupIds, web.id]);
    await eventually(() => connects(vm.w3!, vm.a1!.ip, 9000), 'w3 (now in web) -> a1:9000', 40);
    expect((await groupChains()).split('\n')).toEqual(before.split('\n'));
  });

  it('blocks new flows when the rule that allowed them is removed', async () => {
    await lab.secgroup.command('rule.delete', { groupId: app.id, ruleId: webToApp }, t.who);
    await eventually(async () => !(await connects(vm.w1!, vm.a2!.ip, 9000)), 'w1 -> a2:9000 to be refused', 40);
    expect(await connects(vm.c!, vm.w1!.ip, 443)).toBe(true); // the other tiers are untouched
    expect(await connects(vm.a1!, vm.d1!.ip, 5432)).toBe(true);
  });
});
