/**
 * Attack: make the BGP gateway announce a prefix outside the operator's
 * routed address space: a default route (0.0.0.0/0, ::/0) or another
 * organisation's prefix, as the subnet of one's own routed network.
 *
 * tenant-b, through the real gRPC API with its own token (the `strata` CLI),
 * creates a routed network and asks for those subnets: IPAM refuses each
 * (the CIDR named, an operator must create a `routed` pool containing it)
 * and writes no event. Then a log that already holds such subnets (written
 * straight into the stream as the `ipam` user, as a log from before the
 * rule or a bug would): both gateways keep following it, originate neither
 * the subnets nor their ports' host routes, and warn once per subnet, also
 * after a restart (a full replay). Meanwhile tenant-b's subnet inside the
 * routed pools reaches the ToR (the marker that the gateways' passes ran).
 *
 * On the code before routed pools IPAM accepted every subnet (the first
 * test fails at its first refusal) and the gateway advertised the appended
 * 0.0.0.0/0 and ::/0 (the second fails: the ToR's BGP table has them).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { JetStreamEventStore } from '@strata/eventlog';
import { GW } from '@strata/lab';
import { waitFor } from '@strata/testing';
import { expectRefusedWithoutEvents, type Refusal } from '@strata/testing/refusals';
import { describeIf, kernel } from '@strata/testing/suites';
import { BgpHostileLab, HV, WAIT } from './support/bgp-lab.js';

const d = describeIf(kernel(['gobgpd', '--version'], ['/usr/lib/frr/bgpd', '--version']));

const WARNING = 'routed subnet outside every routed pool: not advertised';

d('hostile: routed subnets outside the operator routed address space never reach the fabric', () => {
  const lab = new BgpHostileLab();
  let nc: NatsConnection;
  let store: JetStreamEventStore;
  let inScope: { network: string; subnet: string };
  let markers = 0;

  /** The ToR's BGP tables, IPv4 and IPv6: every prefix it learned. */
  const torPrefixes = async (): Promise<string[]> => {
    const v4 = await lab.fabric.tor.json<{ routes?: Record<string, unknown> }>('show bgp ipv4 unicast json');
    return [...Object.keys(v4.routes ?? {}), ...Object.keys(await lab.torRib6())];
  };
  const advertised = async (): Promise<string[]> =>
    (await lab.admin<{ items: { prefix: string }[] }>(['bgp', 'advertisement', 'list'])).items.map((a) => a.prefix);
  /** A new bound port of tenant-b's in-scope subnet, at the ToR via hv1 from both gateways: both have passed everything before it. */
  const marker = async (): Promise<void> => {
    const ip = `198.19.50.${10 + ++markers}`;
    await lab.as('tenant-b', ['port', 'create', '--network', inScope.network, '--name', `marker${markers}`, '--host', 'hv1', '--fixed-ip', `subnet=${inScope.subnet},ip=${ip}`]);
    const paths = async (): Promise<number> => ((await lab.fabric.tor.json<{ routes?: Record<string, unknown[]> }>('show bgp ipv4 unicast json')).routes?.[`${ip}/32`] ?? []).length;
    await waitFor(async () => (await paths()) === 2 && (await lab.torKernel(ip)).includes(`via ${HV.hv1}`), { ...WAIT, message: `marker ${ip} at the ToR from both gateways` });
  };
  /** `strata` as a tenant, its failure as the code and message the API answered. */
  const refusal = (what: string, argv: string[], code: string, message: string | RegExp): Refusal => ({
    what,
    attempt: () =>
      lab.as('tenant-b', argv).catch((e: Error) => {
        const m = /error: ([A-Z_]+): ([\s\S]*)$/.exec(e.message);
        throw m ? { code: m[1], message: m[2]!.trim() } : e;
      }),
    code,
    message,
  });

  beforeAll(async () => {
    await lab.start(['tenant-a', 'tenant-b']);
    nc = await connect({ servers: lab.cp.natsUrl, user: 'admin', pass: lab.cp.passwords['admin']! });
    store = await JetStreamEventStore.open(nc);
    const network = (await lab.as<{ id: string }>('tenant-b', ['network', 'create', '--name', 'public', '--routed'])).id;
    const subnet = (await lab.as<{ id: string }>('tenant-b', ['subnet', 'create', '--network', network, '--cidr', '198.19.50.0/24'])).id;
    inScope = { network, subnet };
  });

  afterAll(async () => {
    await nc?.close();
    await lab.stop();
  });

  it("a tenant's routed default routes and prefixes outside the routed pools are refused, nothing written, nothing at the ToR", async () => {
    const evil = (await lab.as<{ id: string }>('tenant-b', ['network', 'create', '--name', 'evil', '--routed'])).id;
    const outside = (cidr: string): Refusal =>
      refusal(cidr, ['subnet', 'create', '--network', evil, '--cidr', cidr], 'INVALID_ARGUMENT', new RegExp(`^${cidr.replaceAll('.', '\\.')} is outside the routed address space: .*an operator must create a \`routed\` pool containing`));
    await expectRefusedWithoutEvents(store, [
      outside('0.0.0.0/0'),
      outside('::/0'),
      outside('192.0.2.0/24'),
      // Straddling: covers the routed pool 198.19.0.0/16 and the underlay.
      outside('198.18.0.0/15'),
      outside('2001:db8::/32'),
      refusal("tenant-a's appliance subnet", ['subnet', 'create', '--network', evil, '--cidr', '198.19.1.0/25'], 'ALREADY_EXISTS', "198.19.1.0/25 overlaps another tenant's routed subnet"),
      refusal('a routed pool of its own', ['pool', 'create', '--cidr', '192.0.2.0/24', '--purpose', 'routed'], 'PERMISSION_DENIED', /admin/),
    ]);
    await marker();
    const prefixes = await torPrefixes();
    expect(prefixes).toContain('198.19.50.0/24');
    expect(prefixes.filter((p) => ['0.0.0.0/0', '::/0', '192.0.2.0/24', '198.18.0.0/15', '2001:db8::/32'].includes(p))).toEqual([]);
  });

  it('a log already holding routed subnets outside the routed pools keeps replaying: neither they nor their ports are advertised, one warning per subnet', async () => {
    const old = (await lab.as<{ id: string }>('tenant-b', ['network', 'create', '--name', 'old', '--routed'])).id;
    const v4 = await lab.appendSubnet('tenant-b', old, '0.0.0.0/0');
    const v6 = await lab.appendSubnet('tenant-b', old, '::/0');
    await lab.as('tenant-b', ['port', 'create', '--network', old, '--name', 'vm', '--host', 'hv1', '--fixed-ip', `subnet=${v4},ip=192.0.2.7`, '--fixed-ip', `subnet=${v6},ip=2001:db8:900::7`]);
    await marker();
    const leaked = ['0.0.0.0/0', '::/0', '192.0.2.7/32', '2001:db8:900::7/128'];
    expect((await torPrefixes()).filter((p) => leaked.includes(p))).toEqual([]);
    expect((await advertised()).filter((p) => leaked.includes(p))).toEqual([]);
    await marker();
    const warnings = (output: string, subnetId: string): number => output.split('\n').filter((l) => l.includes(WARNING) && l.includes(subnetId)).length;
    for (const g of lab.gateways) expect([warnings(g.output(), v4), warnings(g.output(), v6)]).toEqual([1, 1]);

    // A restarted gateway replays the whole log: it starts, warns again once, and advertises none of it.
    await lab.gateways[0]!.stop();
    const restarted = await lab.startGateway(1);
    await waitFor(async () => (await lab.fabric.tor.sessionState(GW[0])) === 'Established', { ...WAIT, message: 'the restarted gateway peers with the ToR' });
    await marker();
    expect([warnings(restarted.output(), v4), warnings(restarted.output(), v6)]).toEqual([1, 1]);
    expect((await torPrefixes()).filter((p) => leaked.includes(p))).toEqual([]);
    expect((await torPrefixes())).toContain('198.19.50.0/24');
  });
});
