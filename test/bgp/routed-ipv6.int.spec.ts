/**
 * IPv6 routed networks at the fabric, with the real components: the control
 * plane as operators run it (production NATS users, IPAM, the gRPC API; a
 * tenant acting through the `strata` CLI with its own token), two gateway
 * instances each driving its own gobgpd, and an FRR ToR (BgpHostileLab).
 *
 * A routed network's IPv6 subnet and each bound port's /128 reach FRR as
 * MP-BGP IPv6 unicast over the IPv4 sessions, with the hosting hypervisor's
 * underlay IPv6 address (its VTEP embedded in the underlay's /96) as next
 * hop: in FRR's RIB (`show bgp ipv6 unicast json`) and installed in its
 * kernel. The subnet follows the lowest hosting hypervisor, a restarted
 * gateway reads the IPv6 paths back from gobgpd as it wrote them (prefix
 * text, next hop decoded to the VTEP: nothing re-added; with the decoding
 * removed, it re-adds both), and everything is withdrawn when the last port
 * goes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GW, underlay6 } from '@strata/lab';
import { waitFor } from '@strata/testing';
import { describeIf, kernel } from '@strata/testing/suites';
import { metricValue, scrapeMetrics } from '../../services/bgp-gateway/src/test/support.js';
import { BgpHostileLab, HV, WAIT } from '../hostile/support/bgp-lab.js';

const d = describeIf(kernel(['gobgpd', '--version'], ['/usr/lib/frr/bgpd', '--version']));

const SUBNET = '2001:db8:600::/64';
const A = '2001:db8:600::a';
const B = '2001:db8:600::b';

d('an IPv6 routed network advertised to FRR over MP-BGP, via the hypervisor', () => {
  const lab = new BgpHostileLab();
  let subnetId: string;
  let network: string;
  const ports: Record<string, string> = {};

  /** The network's routes in FRR's RIB, prefix → the next hops of each path (ignoring anything else it holds). */
  const ours = async (): Promise<Record<string, string[][]>> =>
    Object.fromEntries(Object.entries(await lab.torRib6()).filter(([p]) => p.startsWith('2001:db8:600:')));
  const torKernel6 = (prefix: string): Promise<string> => lab.torKernel6(prefix);
  const viaBoth = (hv: keyof typeof HV): string[][] => [[underlay6(HV[hv])], [underlay6(HV[hv])]];

  beforeAll(async () => {
    await lab.start(['tenant-a']);
    network = (await lab.as<{ id: string }>('tenant-a', ['network', 'create', '--name', 'public6', '--routed'])).id;
    subnetId = (await lab.as<{ id: string }>('tenant-a', ['subnet', 'create', '--network', network, '--cidr', SUBNET])).id;
  });

  afterAll(async () => {
    await lab.stop();
  });

  it("a bound port: its /128 and the subnet are in FRR's RIB from both gateways with hv2's underlay IPv6 address as next hop, and in its kernel", async () => {
    ports.a = (await lab.as<{ id: string }>('tenant-a', ['port', 'create', '--network', network, '--name', 'a', '--host', 'hv2', '--fixed-ip', `subnet=${subnetId},ip=${A}`])).id;
    const want = { [SUBNET]: viaBoth('hv2'), [`${A}/128`]: viaBoth('hv2') };
    await waitFor(async () => JSON.stringify(await ours()) === JSON.stringify(want), { ...WAIT, message: 'the subnet and the /128 at the ToR via hv2 from both gateways' });
    expect(await ours()).toEqual(want);
    await waitFor(async () => (await torKernel6(SUBNET)).includes(`via ${underlay6(HV.hv2)}`), { ...WAIT, message: 'the subnet in the ToR kernel' });
    expect(await torKernel6(A)).toContain(`via ${underlay6(HV.hv2)}`);
    expect(await torKernel6(A)).toContain('proto bgp');
  });

  it('a second port on hv1: the subnet moves to the lowest hosting hypervisor, each /128 stays with its own', async () => {
    ports.b = (await lab.as<{ id: string }>('tenant-a', ['port', 'create', '--network', network, '--name', 'b', '--host', 'hv1', '--fixed-ip', `subnet=${subnetId},ip=${B}`])).id;
    const want = { [SUBNET]: viaBoth('hv1'), [`${A}/128`]: viaBoth('hv2'), [`${B}/128`]: viaBoth('hv1') };
    await waitFor(async () => JSON.stringify(await ours()) === JSON.stringify(want), { ...WAIT, message: 'the subnet via hv1, each /128 via its own host' });
    await waitFor(async () => (await torKernel6(B)).includes(`via ${underlay6(HV.hv1)}`), { ...WAIT, message: "hv1's /128 in the ToR kernel" });
  });

  it('a gateway restarted reads the IPv6 routes back as they are (prefix text, next hop): nothing withdrawn or re-sent to FRR', async () => {
    const updates = async (): Promise<number> =>
      (await lab.fabric.tor.json<Record<string, { messageStats: { updatesRecv: number } }>>(`show bgp neighbors ${GW[0]} json`))[GW[0]]!.messageStats.updatesRecv;
    const routes = await ours();
    const before = await updates();
    await lab.gateways[0]!.stop();
    const restarted = await lab.startGateway(1);
    // A pass may end before reconciling (until gobgpd has reported every session): wait for one that did,
    // i.e. the instance holds every advertisement.
    const advertised = (await lab.admin<{ items: unknown[] }>(['bgp', 'advertisement', 'list'])).items.length;
    await waitFor(async () => metricValue(await scrapeMetrics(restarted), 'strata_bgp_advertised_routes') === advertised, { ...WAIT, message: 'first reconcile after the restart' });
    // The first pass read gobgpd's RIB and found it as desired: no path added or withdrawn (gobgpd would not
    // tell FRR about an identical re-add, so the ToR's update count alone would not show one).
    const metrics = await scrapeMetrics(restarted);
    expect([metricValue(metrics, 'strata_bgp_rib_changes_total', { op: 'add' }), metricValue(metrics, 'strata_bgp_rib_changes_total', { op: 'withdraw' })]).toEqual([0, 0]);
    expect(restarted.output()).not.toContain('advertisements reconciled');
    expect(await updates()).toBe(before);
    expect(await ours()).toEqual(routes);
  });

  it('the last port goes: every IPv6 route of the network leaves the RIB and the kernel', async () => {
    await lab.as('tenant-a', ['port', 'delete', ports.b!]);
    await waitFor(async () => JSON.stringify(await ours()) === JSON.stringify({ [SUBNET]: viaBoth('hv2'), [`${A}/128`]: viaBoth('hv2') }), { ...WAIT, message: 'back to hv2 only' });
    await lab.as('tenant-a', ['port', 'delete', ports.a!]);
    await waitFor(async () => Object.keys(await ours()).length === 0, { ...WAIT, message: 'all withdrawn at the ToR' });
    await waitFor(async () => (await torKernel6(SUBNET)) === '' && (await torKernel6(A)) === '', { ...WAIT, message: 'all gone from the ToR kernel' });
    const adverts = await lab.admin<{ items: { prefix: string }[] }>(['bgp', 'advertisement', 'list']);
    expect(adverts.items.filter((a) => a.prefix.includes(':'))).toEqual([]);
  });
});
