/** Two availability zones for the zone benchmarks (infra/lab `Zones`), torn down on every exit path. */
import { Zones, type ZoneSpec } from '@strata/lab';
import { withTeardown } from './overlay.js';

/** az1 with hv1 and hv2, az2 with hv3, disjoint VNI ranges. */
export const TWO_ZONES: ZoneSpec[] = [
  { name: 'az1', id: 1, hosts: [1, 2], vnis: { min: 10_000, max: 19_999 } },
  { name: 'az2', id: 2, hosts: [3], vnis: { min: 20_000, max: 29_999 } },
];

/** Start the zones, run `body`, and destroy them on a normal end, an exception, SIGINT or SIGTERM. */
export function withZones<T>(body: (zones: Zones) => Promise<T>, specs: readonly ZoneSpec[] = TWO_ZONES): Promise<T> {
  return withTeardown('zones', () => Zones.start(specs), (zones) => zones.destroy(), body);
}
