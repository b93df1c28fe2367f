/**
 * How many EVPN routes a zone exchanges for its ports, and how long they take to reach the other zone (issue 20).
 *
 *   npm run -w @strata/bench zones-routes            (PORTS=10000 by default)
 *   QUICK=1 npm run -w @strata/bench zones-routes    (PORTS=1000; under 2 minutes)
 *
 * Two zones (infra/lab `Zones`): az1 with hv1 and hv2, az2 with hv3,
 * federated through an FRR route reflector. A tenant stretches one network
 * across both (az2 has one VM port on hv3, so hv3 needs the network), and
 * has a second network in az1 that is not stretched. PORTS ports are
 * created in az1 on the stretched network (one fixed IP each, alternately
 * on hv1 and hv2; no VMs: what is measured is the control plane), and
 * PORTS / 10 on the local network. Counted, once every port is acknowledged:
 *
 *   - the routes the reflector holds from az1's gateway (FRR's `pfxRcd`):
 *     one type 2 per port address and one type 3 per hypervisor, nothing of
 *     the local network;
 *   - az1's routes in hv3's host view in az2 (RemoteEndpoints
 *     `hv3.ep.phys-zone-az1-*`): recorded by az2's gateway, derived by az2's
 *     hostview;
 *
 * and the time from the last port's acknowledgement until each is complete.
 * The last line is the routes per stretched port (the baseline: one type 2
 * per address).
 */
import { randomUUID } from 'node:crypto';
import { RouteReflector, stretchedSide, type StretchedSide, type Zone } from '@strata/lab';
import { hostviewBucket } from '@strata/contracts';
import { QUICK, fmt, intEnv, log, printRatio, runPool, table } from './support/common.js';
import { runHeader, sleep } from './support/overlay.js';
import { withZones } from './support/zones.js';

const PORTS = intEnv('PORTS', QUICK ? 1000 : 10_000, 2, 16_000);
const CONCURRENCY = intEnv('CONCURRENCY', 32, 1, 256);
const WHO = { tenant: 'bench', admin: false };
/** A /18: room for 16,000 ports in az1's part (.0.10 – .62.255) and az2's (.63.x). */
const CIDR = '10.64.0.0/18';
const POOLS = { az1: { start: '10.64.0.10', end: '10.64.62.255' }, az2: { start: '10.64.63.0', end: '10.64.63.250' } } as const;

/** The stretched network in one zone (az2 joins az1's VNI) with the zone's pool. */
function side(zone: Zone, vni?: number): Promise<StretchedSide> {
  return stretchedSide(zone, WHO, { name: 'stretched', cidr: CIDR, gatewayIp: '10.64.0.1', pool: POOLS[zone.spec.name as keyof typeof POOLS] }, vni);
}

/** Waits (polling every 250 ms, at most `timeoutMs`) until `count()` reaches `want`; the seconds it took, or NaN. */
async function until(what: string, want: number, count: () => Promise<number>, timeoutMs: number): Promise<{ seconds: number; last: number }> {
  const t0 = performance.now();
  let last = -1;
  while (performance.now() - t0 < timeoutMs) {
    last = await count();
    if (last >= want) return { seconds: (performance.now() - t0) / 1000, last };
    await sleep(250);
  }
  log(`${what}: ${last} of ${want} after ${timeoutMs / 1000} s`);
  return { seconds: NaN, last };
}

/**
 * Sends `command(requestId)` again, with the same request id, while the answer is UNAVAILABLE or
 * DEADLINE_EXCEEDED (on a loaded machine an IPAM instance may not reach the caller's position in
 * time, before or after its write, or not answer in time): the id makes a re-sent command that was
 * applied answer without applying it twice.
 */
async function withRetries<T>(command: (requestId: string) => Promise<T>): Promise<T> {
  const requestId = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      return await command(requestId);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code !== 'UNAVAILABLE' && code !== 'DEADLINE_EXCEEDED') || attempt >= 5) throw err;
      log(`port.create ${requestId}: ${code}, sent again (attempt ${attempt + 1})`);
    }
  }
}

async function main(): Promise<void> {
  runHeader('zones-routes', { PORTS, CONCURRENCY, QUICK: QUICK ? 1 : 0 });
  await withZones(async (zones) => {
    const [az1, az2] = [zones.zone('az1'), zones.zone('az2')];
    const one = await side(az1);
    const two = await side(az2, one.net.vni);
    await az2.lab.ipam.command('port.create', { networkId: two.net.id, name: 'az2-vm', hostId: 'hv3' }, WHO);
    const local = await az1.lab.ipam.command('network.create', { name: 'local' }, WHO);
    await az1.lab.ipam.command('subnet.create', { networkId: local.id, cidr: '10.65.0.0/18' }, WHO);
    const localPorts = Math.floor(PORTS / 10);

    const t0 = performance.now();
    let done = 0;
    await runPool(PORTS + localPorts, CONCURRENCY, async (i) => {
      const networkId = i < PORTS ? one.net.id : local.id;
      await withRetries((id) => az1.lab.ipam.command('port.create', { networkId, name: `p${i}`, hostId: i % 2 === 0 ? 'hv1' : 'hv2' }, WHO, id));
      if (++done % 1000 === 0) log(`${done} ports created (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    });
    const created = (performance.now() - t0) / 1000;
    log(`${PORTS} stretched and ${localPorts} local ports created in az1 in ${created.toFixed(1)} s`);

    const want = PORTS + 2; // a type 2 per address, a type 3 per hypervisor (hv1, hv2)
    const fromAz1 = async (): Promise<number> => {
      const rr = zones.rr;
      if (!(rr instanceof RouteReflector)) throw new Error('the bench counts at the FRR reflector (Zones\' default)');
      const s = await rr.frr.json<{ peers?: Record<string, { pfxRcd?: number }> }>('show bgp l2vpn evpn summary json');
      return s.peers?.[az1.gatewayIp]?.pfxRcd ?? 0;
    };
    const atReflector = await until('routes from az1 at the reflector', want, fromAz1, 600_000);
    log(`the reflector holds ${atReflector.last} routes from az1 (${fmt(atReflector.seconds, 1)} s after the last port)`);

    const nc = await az2.lab.natsUsers.connect('admin');
    const kv = await nc.jetstream().views.kv(hostviewBucket('hv3'), { bindOnly: true });
    const inHv3 = async (): Promise<number> => {
      let n = 0;
      for await (const key of await kv.keys('hv3.ep.>')) if (key.startsWith('hv3.ep.phys-zone-az1-')) n++;
      return n;
    };
    const inAz2 = await until("az1's ports in hv3's view (az2)", PORTS, inHv3, 600_000);
    await nc.close();
    const settled = await fromAz1();
    log(`hv3's view holds ${inAz2.last} of az1's endpoints (${fmt(inAz2.seconds + atReflector.seconds, 1)} s after the last port)`);

    console.log('');
    table(
      ['what', 'count', 'seconds after the last port was acknowledged'],
      [
        [`ports created in az1 (${CONCURRENCY} at a time)`, `${PORTS} stretched + ${localPorts} local`, `${created.toFixed(1)} s to create`],
        ["routes from az1's gateway at the reflector (type 2 + type 3)", String(settled), fmt(atReflector.seconds, 1)],
        ["az1's endpoints in hv3's host view (az2)", String(inAz2.last), fmt(atReflector.seconds + inAz2.seconds, 1)],
      ],
    );
    console.log(`\nroute count exchanged by zone az1 for ${PORTS} stretched ports (and ${localPorts} local ones): ${settled}`);
    printRatio(settled / PORTS, { measured: "routes az1's gateway gives the reflector", baseline: 'its stretched ports (one type 2 per address)', goal: `1 + hypervisors ÷ ports = ${fmt(1 + 2 / PORTS, 4)}`, digits: 4 });
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
