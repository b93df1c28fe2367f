/**
 * A security-group membership change in zone 1, applied in zone 2, against the same change applied in zone 1 (issue 20).
 *
 *   npm run -w @strata/bench zones-membership            (SAMPLES=100 by default)
 *   QUICK=1 npm run -w @strata/bench zones-membership    (SAMPLES=20; under 2 minutes)
 *
 * Two zones (infra/lab `Zones`: az1 with hv1 and hv2, az2 with hv3). One
 * tenant stretches a network across both. Groups with the same federation
 * tags in both zones: `app` (tag 10), `web` (tag 20), and in each zone a
 * `db` group whose rule admits `app` (az1's db port on hv2, az2's on hv3).
 * Port x on hv1 (az1) is in `web`; each sample puts it into `app`
 * (`port.setGroups`), then takes it out again.
 *
 * Measured from the command's sending, per change, until the host view of
 * the host that needs the member has it (or no longer has it); the same
 * zone's host view is often written before the acknowledgement arrives:
 *
 *   same zone   hv2's view in az1: `hv2.member.<az1 app>.<x>` (IPAM → secgroup → hostview of az1)
 *   cross-zone  hv3's view in az2: `hv3.member.<az2 app>.phys-zone-az1-…` (az1's gateway re-announces x's
 *               type 2 with the new large community → the reflector → az2's gateway records the tags →
 *               az2's hostview)
 *
 * Both end at a host-view write, the agent's input, so the ratio is
 * like for like; the agent's own apply (set elements only) is measured by
 * `sg-membership`. Host-view writes are timed by KV watches of the bench.
 * The last line is cross-zone ÷ same-zone, p50.
 */
import type { KvEntry } from 'nats';
import { hostviewBucket } from '@strata/contracts';
import { stretchedSide, type Principal, type Zone } from '@strata/lab';
import { QUICK, fmt, intEnv, log, percentile, printRatio, table } from './support/common.js';
import { runHeader } from './support/overlay.js';
import { withZones } from './support/zones.js';

const SAMPLES = intEnv('SAMPLES', QUICK ? 20 : 100, 1, 10_000);
const WHO: Principal = { tenant: 'bench', admin: false };
const POOLS = { az1: { start: '10.40.0.10', end: '10.40.0.99' }, az2: { start: '10.40.0.100', end: '10.40.0.199' } } as const;
const TAGS = { app: 10, web: 20, db: 30 } as const;

/** The latest time (performance.now()) a put and a delete was seen under a key prefix of a host's view. */
class ViewWatch {
  readonly seen = { put: 0, del: 0 };
  private stopWatch: (() => void) | undefined;

  static async start(zone: Zone, hostId: string, prefix: string): Promise<ViewWatch> {
    const w = new ViewWatch();
    const nc = await zone.lab.natsUsers.connect('admin');
    const kv = await nc.jetstream().views.kv(hostviewBucket(hostId), { bindOnly: true });
    const iter = await kv.watch({ key: `${prefix}>`, include: 'updates-only' as never });
    w.stopWatch = () => {
      iter.stop();
      void nc.close();
    };
    void (async () => {
      for await (const e of iter as AsyncIterable<KvEntry>) w.seen[e.operation === 'PUT' ? 'put' : 'del'] = performance.now();
    })();
    return w;
  }

  stop(): void {
    this.stopWatch?.();
  }
}

/** Polls every millisecond until `done()`, at most `timeoutMs`. */
async function until(done: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const t0 = performance.now();
  while (!done()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not seen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function groups(zone: Zone): Promise<Record<keyof typeof TAGS, string>> {
  const out = {} as Record<keyof typeof TAGS, string>;
  for (const name of Object.keys(TAGS) as (keyof typeof TAGS)[])
    out[name] = (await zone.lab.secgroup.command('group.create', { name, description: '', egressRules: true, federationTag: TAGS[name] }, WHO)).id;
  await zone.lab.secgroup.command('rule.create', { groupId: out.db, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 5432, portMax: 5432, remoteGroupId: out.app }, WHO);
  return out;
}

async function main(): Promise<void> {
  runHeader('zones-membership', { SAMPLES, QUICK: QUICK ? 1 : 0 });
  await withZones(async (zones) => {
    const [az1, az2] = [zones.zone('az1'), zones.zone('az2')];
    const net = { name: 'stretched', cidr: '10.40.0.0/24', gatewayIp: '10.40.0.1' };
    const one = await stretchedSide(az1, WHO, { ...net, pool: POOLS.az1 });
    const two = await stretchedSide(az2, WHO, { ...net, pool: POOLS.az2 }, one.net.vni);
    const [g1, g2] = [await groups(az1), await groups(az2)];
    const port = async (zone: Zone, networkId: string, name: string, hostId: string, groupIds: string[]): Promise<string> => {
      const p = await zone.lab.ipam.command('port.create', { networkId, name, hostId }, WHO);
      await zone.lab.secgroup.command('port.setGroups', { portId: p.id, groupIds }, WHO);
      return p.id;
    };
    await port(az1, one.net.id, 'db-az1', 'hv2', [g1.db]);
    await port(az2, two.net.id, 'db-az2', 'hv3', [g2.db]);
    const x = await port(az1, one.net.id, 'x', 'hv1', [g1.web]);

    const same = await ViewWatch.start(az1, 'hv2', `hv2.member.${g1.app}.`);
    const cross = await ViewWatch.start(az2, 'hv3', `hv3.member.${g2.app}.`);
    const lat = { ack: { put: new Float64Array(SAMPLES), del: new Float64Array(SAMPLES) }, same: { put: new Float64Array(SAMPLES), del: new Float64Array(SAMPLES) }, cross: { put: new Float64Array(SAMPLES), del: new Float64Array(SAMPLES) } };
    try {
      for (let i = -1; i < SAMPLES; i++) {
        // i = -1 warms the path up (the first announcement with a large community, the first record); not counted.
        for (const op of ['put', 'del'] as const) {
          const before = { same: same.seen[op], cross: cross.seen[op] };
          const sent = performance.now();
          await az1.lab.secgroup.command('port.setGroups', { portId: x, groupIds: op === 'put' ? [g1.web, g1.app] : [g1.web] }, WHO);
          if (i >= 0) lat.ack[op][i] = performance.now() - sent;
          await until(() => same.seen[op] > before.same && cross.seen[op] > before.cross, `sample ${i} ${op}`);
          if (i >= 0) {
            lat.same[op][i] = same.seen[op] - sent;
            lat.cross[op][i] = cross.seen[op] - sent;
          }
        }
        if (i >= 0 && (i + 1) % 20 === 0) log(`${i + 1} of ${SAMPLES} samples`);
      }
    } finally {
      same.stop();
      cross.stop();
    }

    const row = (label: string, xs: Float64Array): string[] => [label, fmt(percentile(xs, 50), 1), fmt(percentile(xs, 99), 1), fmt(Math.max(...xs), 1)];
    console.log(`\nms from port.setGroups sent (az1) to its acknowledgement and to the member key in the host view, ${SAMPLES} samples each\n`);
    table(
      ['change', 'p50 ms', 'p99 ms', 'max ms'],
      [
        row('joins app: the command acknowledged', lat.ack.put),
        row('joins app: hv2 (az1, same zone)', lat.same.put),
        row('joins app: hv3 (az2, cross-zone)', lat.cross.put),
        row('leaves app: the command acknowledged', lat.ack.del),
        row('leaves app: hv2 (az1, same zone)', lat.same.del),
        row('leaves app: hv3 (az2, cross-zone)', lat.cross.del),
      ],
    );
    const both = (z: 'same' | 'cross'): Float64Array => Float64Array.from([...lat[z].put, ...lat[z].del]);
    const [s50, c50] = [percentile(both('same'), 50), percentile(both('cross'), 50)];
    console.log(`\ncross-zone p50 ${fmt(c50, 1)} ms, p99 ${fmt(percentile(both('cross'), 99), 1)} ms; same zone p50 ${fmt(s50, 1)} ms, p99 ${fmt(percentile(both('same'), 99), 1)} ms`);
    printRatio(c50 / s50, { measured: 'cross-zone membership latency p50', baseline: 'same-zone p50', goal: 'recorded (issue 20: p50/p99 in docs/performance.md)' });
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
