/**
 * Failure domains across availability zones, with real packets (issue 20
 * item 5; docs/architecture.md, "Failure domains"): zones az1 (hv1, hv2) and
 * az2 (hv3) on one underlay, federated through a route reflector with
 * long-lived graceful restart (`reflector: 'gobgp'`: FRR 8.4 keeps no EVPN
 * route of a lost client). One tenant's segment is stretched across both;
 * VMs a1 (hv1), a2 (hv2) in az1, b (hv3) in az2.
 *
 * az1's whole control plane crashes (NATS, every service, its BGP gateway
 * and gobgpd: kill -9). Shown: az1's agents fail static and its VMs keep
 * talking to each other and to az2, both ways; the reflector keeps az1's
 * routes as LLGR_STALE and az2 keeps them (its gauge counts them, its host
 * view still holds az1's VMs, its log says nothing of az1 being lost); az2
 * converges on its own change (a new VM c on hv3 reaches b). az1 returns:
 * it learns c (a1 reaches c), a VM it creates after its return (a3) is
 * recorded in az2 and reaches b, the stale marks are gone, and az2's log
 * still holds no withdrawal of az1's records. Last, End-of-RIB's other
 * half: a3 is deleted in az1 while only az1's BGP speaker (gobgpd and
 * gateway) is down; az2 keeps it (stale) until az1's speaker returns, then
 * withdraws it, and only it. And a planned stop (SIGTERM everywhere: az1's
 * gobgpd ends its session with a Cease notification, which RFC 8538's N bit
 * makes a graceful restart) keeps az1's routes in az2 as a crash does.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hostviewBucket, type NetworkView, type PortView, type SubnetView } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { ADMIN, Zones, type Principal, type Vm, type Zone } from '@strata/lab';
import { waitFor } from '@strata/testing';
import { describeIf, kernel } from '@strata/testing/suites';
import type { NatsConnection } from 'nats';
import { metric } from '../support/metrics.js';

const d = describeIf(kernel(['gobgpd', '--version'], ['gobgp', '--version']));
const CIDR = '10.0.0.0/24';
const POOLS = { az1: { start: '10.0.0.10', end: '10.0.0.99' }, az2: { start: '10.0.0.100', end: '10.0.0.199' } } as const;
const WHO: Principal = { tenant: 'tenant-fd', admin: false };
const WAIT = { timeoutMs: 90_000, intervalMs: 250 };
const seconds = (from: number): string => ((Date.now() - from) / 1000).toFixed(1);

interface Side {
  net: NetworkView;
  subnet: SubnetView;
  groupId: string;
}

d('failure domains: a zone\'s control plane crashes, the other zone and both data planes carry on', () => {
  let zones: Zones;
  let az1: Zone;
  let az2: Zone;
  let admin2: NatsConnection;
  let log2: JetStreamEventStore;
  /** az2's log position before anything of az1 was learned there: every withdrawal of az1's records after it counts. */
  let since = 0;
  const side: Partial<Record<'az1' | 'az2', Side>> = {};
  const vm: Record<string, Vm> = {};
  let vni = 0;

  /** The segment in one zone (az2 joins az1's VNI), the subnet with the zone's pool, a group admitting the segment. */
  async function stretch(zone: Zone, joinVni?: number): Promise<Side> {
    const net =
      joinVni === undefined
        ? await zone.lab.ipam.command('network.create', { name: 'stretched', federated: true }, WHO)
        : await zone.lab.ipam.command('network.create', { tenant: WHO.tenant, name: 'stretched', federated: true, vni: joinVni }, ADMIN);
    const pool = POOLS[zone.spec.name as keyof typeof POOLS];
    const subnet = await zone.lab.ipam.command('subnet.create', { networkId: net.id, cidr: CIDR, gatewayIp: '10.0.0.1', allocationPools: [pool] }, WHO);
    const group = await zone.lab.secgroup.command('group.create', { name: 'segment', description: '', egressRules: true }, WHO);
    await zone.lab.secgroup.command('rule.create', { groupId: group.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'any', remoteCidr: CIDR }, WHO);
    return { net, subnet, groupId: group.id };
  }

  async function boot(zone: Zone, name: string, hostId: string): Promise<Vm> {
    const s = side[zone.spec.name as 'az1' | 'az2']!;
    const port: PortView = await zone.lab.ipam.command('port.create', { networkId: s.net.id, name, hostId }, WHO);
    await zone.lab.secgroup.command('port.setGroups', { portId: port.id, groupIds: [s.groupId] }, WHO);
    const v = await zone.lab.addVm(name, port, hostId);
    await v.configureStatic({ [s.subnet.id]: { prefixLength: 24, gatewayIp: s.subnet.gatewayIp, mtu: s.net.mtu } });
    vm[name] = v;
    return v;
  }

  /** hostview's key for a remote zone's MAC in a host's view (services/hostview physical.ts). */
  const remoteKey = (host: string, zone: string, v: Vm): string => `${host}.ep.phys-zone-${zone}-${vni}-${v.port.mac.replaceAll(':', '')}`;
  const viewOf = async (hostId: string, nc: NatsConnection): Promise<Set<string>> => {
    const kv = await nc.jetstream().views.kv(hostviewBucket(hostId), { bindOnly: true });
    const out = new Set<string>();
    for await (const key of await kv.keys()) out.add(key);
    return out;
  };
  const hv3Holds = async (...vms: Vm[]): Promise<boolean> => {
    const keys = await viewOf('hv3', admin2);
    return vms.every((v) => keys.has(remoteKey('hv3', 'az1', v)));
  };
  /** az2's withdrawals of az1's records since `since`. */
  const az1WithdrawnInAz2 = async (): Promise<string[]> => {
    const out: string[] = [];
    for await (const e of log2.read({ fromSeq: since + 1 })) {
      const data = e.data as { deviceId?: string };
      if (e.type.startsWith('bgp.Physical') && e.type.endsWith('Withdrawn') && data.deviceId === 'zone-az1') out.push(`${e.type} ${JSON.stringify(e.data)}`);
    }
    return out;
  };
  const stale = (): Promise<number> => metric(az2.gateway, 'strata_bgp_federation_stale_routes');
  const failStatic = (zone: Zone, host: string): Promise<number> => metric(zone.lab.host(host).agent!, 'strata_agent_fail_static');
  /** Every pair both ways, one ping each. */
  const allPing = async (pairs: [Vm, Vm][]): Promise<string[]> => {
    const failed: string[] = [];
    for (const [x, y] of pairs) for (const [from, to] of [[x, y], [y, x]] as const) if (!(await from.pingOnce(to.ip))) failed.push(`${from.name} -> ${to.name}`);
    return failed;
  };

  beforeAll(async () => {
    zones = await Zones.start(
      [
        { name: 'az1', id: 1, hosts: [1, 2], vnis: { min: 10_000, max: 19_999 } },
        { name: 'az2', id: 2, hosts: [3], vnis: { min: 20_000, max: 29_999 } },
      ],
      {},
      { reflector: 'gobgp' },
    );
    az1 = zones.zone('az1');
    az2 = zones.zone('az2');
    admin2 = await az2.lab.natsUsers.connect('admin');
    log2 = await JetStreamEventStore.open(admin2);
    since = await log2.lastSeq();
    side.az1 = await stretch(az1);
    vni = side.az1.net.vni;
    side.az2 = await stretch(az2, vni);
    await boot(az1, 'a1', 'hv1');
    await boot(az1, 'a2', 'hv2');
    await boot(az2, 'b', 'hv3');
  }, 300_000);

  afterAll(async () => {
    await admin2?.close().catch(() => undefined);
    await zones?.destroy();
  });

  it('before: every VM reaches every other, within and across zones; az2 holds az1\'s VMs, nothing stale', async () => {
    for (const [x, y] of [['a1', 'a2'], ['a1', 'b'], ['a2', 'b']] as const) {
      await vm[x]!.pingEventually(vm[y]!.ip, 120);
      await vm[y]!.pingEventually(vm[x]!.ip, 120);
    }
    await waitFor(() => hv3Holds(vm.a1!, vm.a2!), { ...WAIT, message: "az1's VMs in hv3's view" });
    expect(await stale()).toBe(0);
  });

  it("az1's whole control plane crashes: az1's VMs keep talking to each other and to az2; az2 keeps az1's routes (stale), writes nothing of the loss, and converges on its own change", async () => {
    const pairs: [Vm, Vm][] = [
      [vm.a1!, vm.a2!],
      [vm.a1!, vm.b!],
      [vm.a2!, vm.b!],
    ];
    // A ping stream a1 -> b across the crash: how long cross-zone traffic was interrupted, if at all (a figure, not asserted).
    const stream = vm.a1!.ns.exec(['ping', '-i', '0.2', '-W', '1', '-w', '40', vm.b!.ip], { timeoutMs: 60_000 }).catch((e: { stdout?: string }) => e.stdout ?? '');
    const crash = Date.now();
    await zones.killControlPlane('az1');
    await waitFor(async () => (await failStatic(az1, 'hv1')) === 1 && (await failStatic(az1, 'hv2')) === 1, { ...WAIT, message: "az1's agents failing static" });
    // The reflector lost az1's gobgpd: its routes reach az2 marked LLGR_STALE, and az2 keeps them.
    await waitFor(async () => (await stale()) > 0, { ...WAIT, message: "az1's routes stale in az2" });
    const markedAfter = seconds(crash);
    expect(await allPing(pairs)).toEqual([]);
    expect(await hv3Holds(vm.a1!, vm.a2!)).toBe(true);

    // az2 converges on its own change: a new VM on hv3 reaches b.
    const change = Date.now();
    const c = await boot(az2, 'c', 'hv3');
    await c.pingEventually(vm.b!.ip, 120);
    const converged = seconds(change);
    expect(await allPing(pairs)).toEqual([]);
    expect(await az1WithdrawnInAz2()).toEqual([]);
    expect(await stale()).toBeGreaterThan(0);

    const out = await stream;
    const sent = Number(/(\d+) packets transmitted/.exec(out)?.[1] ?? 0);
    const received = Number(/(\d+) received/.exec(out)?.[1] ?? 0);
    console.log(`[failure-domain] az1 crashed: stale marks in az2 after ${markedAfter} s; a1 -> b across the crash: ${received}/${sent} echo replies (0.2 s apart); az2's new VM reached b in ${converged} s`);
  });

  it('az1 returns: it converges (learns az2\'s new VM; a VM it creates reaches az2 and is recorded there) without touching az2', async () => {
    const back = Date.now();
    await zones.restartControlPlane('az1');
    await waitFor(async () => (await failStatic(az1, 'hv1')) === 0 && (await failStatic(az1, 'hv2')) === 0, { ...WAIT, message: "az1's agents live again" });
    // az1's End-of-RIB: the reflector's routes are fresh again, nothing stale in az2.
    await waitFor(async () => (await stale()) === 0, { ...WAIT, message: 'no stale route in az2' });
    const fresh = seconds(back);
    // az1 learned az2's VM made during its outage.
    await vm.a1!.pingEventually(vm.c!.ip, 240);
    await vm.c!.pingEventually(vm.a1!.ip, 40);
    const learned = seconds(back);
    // A VM az1 creates after its return: recorded in az2, reaches b both ways.
    const a3 = await boot(az1, 'a3', 'hv2');
    await waitFor(() => hv3Holds(a3), { ...WAIT, message: "az1's new VM in hv3's view" });
    await a3.pingEventually(vm.b!.ip, 120);
    await vm.b!.pingEventually(a3.ip, 40);
    expect(await allPing([[vm.a1!, vm.a2!], [vm.a1!, vm.b!], [vm.a2!, vm.b!], [vm.a1!, vm.c!]])).toEqual([]);
    expect(await hv3Holds(vm.a1!, vm.a2!, a3)).toBe(true);
    // Across the crash, the outage and the return, az2 never withdrew one of az1's records.
    expect(await az1WithdrawnInAz2()).toEqual([]);
    console.log(`[failure-domain] az1 back: no stale route in az2 after ${fresh} s; a1 <-> c (az2's VM made meanwhile) after ${learned} s`);
  });

  it("a MAC az1 deleted while its BGP speaker was away is withdrawn in az2 at the speaker's return (End-of-RIB), and nothing else", async () => {
    const a3 = vm.a3!;
    await zones.killBgp('az1');
    await waitFor(async () => (await stale()) > 0, { ...WAIT, message: "az1's routes stale in az2" });
    await a3.detach();
    await az1.lab.ipam.command('port.delete', { id: a3.port.id }, WHO);
    // az1 (NATS and services up) has deleted it; az2 still has it, stale: az1's speaker has not said so.
    expect(await hv3Holds(vm.a1!, vm.a2!, a3)).toBe(true);
    const before = await log2.lastSeq();
    await zones.restartBgp('az1');
    await waitFor(async () => !(await hv3Holds(a3)), { ...WAIT, message: "a3 gone from hv3's view" });
    await waitFor(async () => (await stale()) === 0, { ...WAIT, message: 'no stale route in az2' });
    expect(await hv3Holds(vm.a1!, vm.a2!)).toBe(true);
    const withdrawn: string[] = [];
    for await (const e of log2.read({ fromSeq: before + 1 })) if (e.type.endsWith('Withdrawn')) withdrawn.push(`${e.type} ${(e.data as { mac?: string }).mac ?? ''}`);
    expect(withdrawn).toEqual([`bgp.PhysicalMacWithdrawn ${a3.port.mac}`]);
    expect(await allPing([[vm.a1!, vm.b!], [vm.a2!, vm.b!]])).toEqual([]);
  });

  it("az1's control plane stopped as an operator would (SIGTERM everywhere: its gobgpd sends the reflector a Cease): az2 keeps az1's routes and the VMs keep talking, as after a crash", async () => {
    const pairs: [Vm, Vm][] = [
      [vm.a1!, vm.a2!],
      [vm.a1!, vm.b!],
      [vm.a2!, vm.c!],
    ];
    const before = await log2.lastSeq();
    await zones.stopControlPlane('az1');
    await waitFor(async () => (await failStatic(az1, 'hv1')) === 1 && (await failStatic(az1, 'hv2')) === 1, { ...WAIT, message: "az1's agents failing static" });
    // The notification ended the session, and with the N bit (RFC 8538) the reflector keeps az1's routes as after a crash.
    await waitFor(async () => (await stale()) > 0, { ...WAIT, message: "az1's routes stale in az2 after a Cease" });
    expect(await hv3Holds(vm.a1!, vm.a2!)).toBe(true);
    expect(await allPing(pairs)).toEqual([]);
    await zones.restartControlPlane('az1');
    await waitFor(async () => (await stale()) === 0, { ...WAIT, message: 'no stale route in az2' });
    expect(await allPing(pairs)).toEqual([]);
    const withdrawn: string[] = [];
    for await (const e of log2.read({ fromSeq: before + 1 })) if (e.type.endsWith('Withdrawn')) withdrawn.push(e.type);
    expect(withdrawn).toEqual([]);
  });
});
