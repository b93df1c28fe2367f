/** Two availability zones for the zone benchmarks (infra/lab `Zones`), torn down on every exit path. */
import { Zones, type ZoneSpec } from '@strata/lab';
import { log } from './common.js';
import { stopAll } from './overlay.js';

/** az1 with hv1 and hv2, az2 with hv3, disjoint VNI ranges. */
export const TWO_ZONES: ZoneSpec[] = [
  { name: 'az1', id: 1, hosts: [1, 2], vnis: { min: 10_000, max: 19_999 } },
  { name: 'az2', id: 2, hosts: [3], vnis: { min: 20_000, max: 29_999 } },
];

/** Start the zones, run `body`, and destroy them on a normal end, an exception, SIGINT or SIGTERM (as withLab). */
export async function withZones<T>(body: (zones: Zones) => Promise<T>, specs: readonly ZoneSpec[] = TWO_ZONES): Promise<T> {
  let zones: Zones | undefined;
  let destroying: Promise<void> | undefined;
  const destroy = (): Promise<void> => (destroying ??= (zones ? zones.destroy() : Promise.resolve()).then(() => stopAll()));
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`${sig}: tearing the zones down`);
    void destroy().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const t0 = performance.now();
    zones = await Zones.start(specs);
    log(`zones up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return await body(zones);
  } finally {
    await destroy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    log('zones destroyed');
  }
}
