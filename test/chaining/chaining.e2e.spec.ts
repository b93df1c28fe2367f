/**
 * Service chaining end to end (chaining service → event log → hostview →
 * agents → kernel), with real packets between VM namespaces on four
 * hypervisors. Appliances are VM namespaces that route, count what they
 * forward (nftables counters) and keep a conntrack table.
 *
 *   tenant-a, one router: net0 10.0.0.0/24 (web), net1 10.0.1.0/24 (app, db), net2 10.0.2.0/24 (appliances)
 *
 *   hv1: web, web2          hv2: fw1           hv3: ids, fw2          hv4: app, db
 *
 * web is in group `web`; web2 is not (until the membership test). Classifier:
 * tcp to 9000 from group `web` to net1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainView, SecurityGroupView } from '@strata/contracts';
import { capture, eventually, Lab, sh, type ManagedProcess, type Vm } from '@strata/lab';
import { vmOn, type TenantSetup } from '../overlay/scenario.js';
import { connects, listen } from '../secgroup/tcp.js';
import { applianceOn, delta, type Appliance } from './appliance.js';
import { chainingTenant, joinGroup } from './scenario.js';
import { tcpFlows, udpEcho, udpEchoes } from './traffic.js';

const APP_PORT = 9000;
const DB_PORT = 5432;

describe('service chaining: appliances inserted by policy on the source hypervisor', () => {
  let lab: Lab;
  let t: TenantSetup;
  let web: SecurityGroupView;
  const vm: Record<string, Vm> = {};
  const fw: Record<string, Appliance> = {};
  const servers: ManagedProcess[] = [];
  let classifierId: string;

  const chaining = () => lab.chaining!;
  const fn = async (a: Appliance, healthCheck?: object) =>
    (await chaining().command('function.create', { name: a.vm.name, ingressPortId: a.vm.port.id, ...(healthCheck ? { healthCheck } : {}) }, t.who)).id;
  const group = async (name: string, functionIds: string[], selection: 'active-standby' | 'flow-hash' = 'active-standby', fallback: 'fail-closed' | 'fail-open' = 'fail-closed') =>
    (await chaining().command('group.create', { name, functionIds, selection, fallback }, t.who)).id;
  const chain = (name: string, groupIds: string[], classifierIds = [classifierId]): Promise<ChainView> =>
    chaining().command('chain.create', { name, routerId: t.routerId, groupIds, classifierIds }, t.who);
  const unchain = (c: ChainView) => chaining().command('chain.delete', { id: c.id }, t.who);
  const toApp = () => connects(vm.web!, vm.app!.ip, APP_PORT);

  /**
   * Connect until a connection passes appliance `a` both ways: the chain reached the source host's kernel and,
   * for the replies, the destination host's (each host applies the log on its own; one can be ahead).
   */
  const passesEventually = async (a: Appliance, from = vm.web!) => {
    // A chain's steering is on the source host, its reverse on the destination's.
    await lab.realised();
    await eventually(async () => {
      const before = await a.counters();
      if (!(await connects(from, vm.app!.ip, APP_PORT))) return false;
      const d = delta(before, await a.counters());
      return d.to_server! > 0 && d.to_client! > 0;
    }, `a connection to app:${APP_PORT} through ${a.vm.name}, both ways`);
  };

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 4, chaining: true });
    ({ t, web } = await chainingTenant(lab));
    for (const [name, net, host] of [['web', 0, 'hv1'], ['web2', 0, 'hv1'], ['app', 1, 'hv4'], ['db', 1, 'hv4']] as const) vm[name] = await vmOn(lab, t, name, net, host);
    await joinGroup(lab, t, vm.web!, web.id);
    servers.push(await listen(vm.app!, [APP_PORT]), await listen(vm.db!, [DB_PORT]), await udpEcho(vm.app!.ns.name, APP_PORT));
    for (const [name, host] of [['fw1', 'hv2'], ['ids', 'hv3'], ['fw2', 'hv3']] as const) fw[name] = await applianceOn(lab, t, name, 2, host, APP_PORT);

    classifierId = (
      await chaining().command(
        'classifier.create',
        { name: 'web-to-app', protocol: 'tcp', source: { groupId: web.id }, destination: { cidr: t.subnets[1]!.cidr }, destinationPorts: { min: APP_PORT, max: APP_PORT } },
        t.who,
      )
    ).id;
    // The direct path works before any chain.
    await eventually(toApp, 'web -> app direct');
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop(2_000)));
    await lab?.destroy();
  });

  it('web → app tcp/9000 passes the firewall in both directions; web → db does not; its drop blocks the flow; removing the chain restores the direct path', async () => {
    const c = await chain('fw', [await group('fw', [await fn(fw.fw1!)])]);
    let chained = true;
    try {
      await passesEventually(fw.fw1!);

      // Both directions of one connection pass the appliance, and a capture inside it sees them.
      const cap = capture(fw.fw1!.vm.ns.name, 'eth0', `tcp port ${APP_PORT}`, 3);
      await cap.started;
      let before = await fw.fw1!.counters();
      expect(await toApp()).toBe(true);
      const d = delta(before, await fw.fw1!.counters());
      expect(d.to_server).toBeGreaterThanOrEqual(3); // SYN, ACK, FIN at least
      expect(d.to_client).toBeGreaterThanOrEqual(2); // SYN-ACK, data
      const lines = await cap.lines;
      expect(lines.some((l) => l.includes(`${vm.web!.ip}.`) && l.includes(`> ${vm.app!.ip}.${APP_PORT}`))).toBe(true);
      expect(lines.some((l) => l.includes(`${vm.app!.ip}.${APP_PORT} > ${vm.web!.ip}.`))).toBe(true);

      // Other flows do not touch it: web → db, and web2 (not in group web) → app.
      before = await fw.fw1!.counters();
      expect(await connects(vm.web!, vm.db!.ip, DB_PORT)).toBe(true);
      expect(await connects(vm.web2!, vm.app!.ip, APP_PORT)).toBe(true);
      expect(delta(before, await fw.fw1!.counters())).toMatchObject({ to_server: 0, to_client: 0 });

      // The appliance's verdict is the flow's fate.
      await fw.fw1!.drop(APP_PORT, true);
      expect(await toApp()).toBe(false);
      await fw.fw1!.drop(APP_PORT, false);
      expect(await toApp()).toBe(true);

      // No chain, direct path: connections work and the firewall sees none of them.
      await unchain(c);
      chained = false;
      await eventually(async () => {
        const b = await fw.fw1!.counters();
        return (await toApp()) && delta(b, await fw.fw1!.counters()).to_server === 0;
      }, 'the direct path back');
    } finally {
      // A failure above must not leave the chain holding the classifier for the tests after this one.
      if (chained) await unchain(c);
    }
  });

  it('two hops (firewall on hv2, then IDS on hv3; source hv1, destination hv4): TCP, UDP and ICMP pass both appliances, both ways', async () => {
    const any = (
      await chaining().command('classifier.create', { name: 'web-to-app-any', protocol: 'any', source: { groupId: web.id }, destination: { cidr: `${vm.app!.ip}/32` } }, t.who)
    ).id;
    const c = await chain('fw-ids', [await group('fw-2h', [await fn(fw.fw1!)]), await group('ids-2h', [await fn(fw.ids!)])], [any]);
    try {
      await passesEventually(fw.ids!);
      const [b1, b2] = [await fw.fw1!.counters(), await fw.ids!.counters()];
      expect(await toApp()).toBe(true);
      expect(await udpEchoes(vm.web!.ns.name, vm.app!.ip, APP_PORT)).toBe(true);
      expect(await vm.web!.pingOnce(vm.app!.ip)).toBe(true);
      for (const [a, b] of [[fw.fw1!, b1], [fw.ids!, b2]] as const) {
        expect(delta(b, await a.counters())).toMatchObject({
          to_server: expect.toSatisfy((n: number) => n >= 3),
          to_client: expect.toSatisfy((n: number) => n >= 2),
          udp_to_server: 1,
          udp_to_client: 1,
          ping: 1,
          pong: 1,
        });
      }
    } finally {
      await unchain(c);
    }
  });

  it('flow-hash: 200 TCP flows, each seen by exactly one member in both directions, spread over both', async () => {
    const members = [await fn(fw.fw1!), await fn(fw.fw2!)];
    const c = await chain('hash', [await group('hash', members, 'flow-hash')]);
    try {
      await passesEventually(fw.fw2!).catch(() => passesEventually(fw.fw1!));
      const ports = await tcpFlows(vm.web!.ns.name, vm.app!.ip, APP_PORT, 200);
      expect(ports.length).toBe(200);
      const seen = [await fw.fw1!.flows(APP_PORT), await fw.fw2!.flows(APP_PORT)];
      const by = ports.map((p) => seen.map((s) => s.get(`${vm.web!.ip}:${p}`)));
      for (const [i, flow] of by.entries()) {
        const at = flow.filter((f) => f !== undefined);
        expect(at, `flow from port ${ports[i]}`).toHaveLength(1);
        expect(at[0]!.replied, `flow from port ${ports[i]}: the reply passed the same member`).toBe(true);
      }
      const onFirst = by.filter((f) => f[0] !== undefined).length;
      expect(onFirst).toBeGreaterThan(40);
      expect(onFirst).toBeLessThan(160);
    } finally {
      await unchain(c);
    }
  });

  it('a classifier group\'s membership change changes set elements only: the steering rules stay byte-identical', async () => {
    const c = await chain('members', [await group('members', [await fn(fw.fw1!)])]);
    try {
      await passesEventually(fw.fw1!);
      const ns = `${lab.prefix}hv1-d${t.routerId.replaceAll('-', '').slice(0, 12)}`;
      const nft = (what: string) => sh(['ip', 'netns', 'exec', ns, 'nft', '-a', ...what.split(' ')]);
      const steering = () => nft('list chain inet strata pre');
      const members = () => nft(`list set inet strata g_${web.id.replaceAll('-', '')}_v4`);
      // passesEventually waited until every host applied the log up to this chain, the previous test's unchain
      // included: the steering rules read now are settled, so a later difference can only come from the membership change.
      const before = await steering();
      expect(await members()).not.toContain(vm.web2!.ip);
      expect(await connects(vm.web2!, vm.app!.ip, APP_PORT)).toBe(true);
      const b = await fw.fw1!.counters();
      await joinGroup(lab, t, vm.web2!, web.id);
      await passesEventually(fw.fw1!, vm.web2!);
      expect(delta(b, await fw.fw1!.counters()).to_server).toBeGreaterThan(0);
      expect(await members()).toContain(vm.web2!.ip);
      // The steering rules, with their handles, are byte-identical: the membership change was a set element.
      expect(await steering()).toBe(before);
    } finally {
      await unchain(c);
    }
  });
});
