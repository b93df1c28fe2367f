import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test tiers are in the file names, and each tier is a project:
 *   unit  *.unit.spec.ts  pure, no I/O
 *   int   *.int.spec.ts   real nats-server and friends (servers on free ports)
 *   e2e   *.e2e.spec.ts   real packets in network namespaces, the compose lab
 * and `hostile` (test/hostile, whatever its files' tier: each performs an
 * attack or a fault against the real components with production users and
 * permissions, and fails if the attack succeeds) and `fault` (test/fault:
 * a mixed command load while processes and NATS servers are killed, each
 * fault followed by the same checks). A spec file named for no
 * tier would run in none, so the configuration refuses it. `vitest run` runs every project; `--project unit` (npm
 * run test:unit), `int`, `e2e`, `hostile` or `fault` one. Files may run in parallel;
 * the machine has two cores.
 */
const shared = {
  exclude: ['**/node_modules/**', '**/dist/**'],
  pool: 'forks' as const,
  testTimeout: 120_000,
  hookTimeout: 120_000,
  setupFiles: ['./vitest.setup.ts'],
};

/** Where specs live. */
const SOURCES = ['libs/*/src', 'services/*/src', 'infra/*/src', 'cli/src', 'test'];
const TIERS = ['unit', 'int', 'e2e'] as const;

const untiered = ['libs', 'services', 'infra', 'cli', 'test']
  .flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => `${dir}/${f}`))
  .filter((f) => f.endsWith('.spec.ts') && !/(^|\/)(node_modules|dist)\//.test(f))
  .filter((f) => !TIERS.some((tier) => f.endsWith(`.${tier}.spec.ts`)));
if (untiered.length > 0) throw new Error(`spec files named for no test tier (*.unit|int|e2e.spec.ts): ${untiered.join(', ')}`);

/**
 * Where the files that take minutes run in a CI run. FIRST start before
 * everything else, whatever their project, longest first, so that the two
 * workers finish together: started last, the compose lab's 20 minutes
 * would run beside nothing while the other worker idles. LAST run at the
 * end of the parallel files: the projector's 1,000 deaths spawn a thousand
 * processes and slow down threefold beside the compose lab (1,026 s in one
 * run; 351 s beside nothing), and at the end they use the core the short
 * files leave. A clean clone has no timings cache, so vitest's own order
 * is by project, then by file size.
 */
const FIRST = [
  'test/lab/lab-smoke.e2e.spec.ts',
  'test/hostile/bgp-gateway-faults.int.spec.ts',
  'test/hostile/api-fuzz.int.spec.ts',
  'services/kafka-exporter/src/crash-recovery.int.spec.ts',
  'test/neutron/openstack-cli.e2e.spec.ts',
  'services/neutron/src/resources/sfc/sfc-cli.int.spec.ts',
  'test/audit/audit.e2e.spec.ts',
  'test/zones/failure-domain.e2e.spec.ts',
];
const LAST = ['test/hostile/pg-projector-crash.int.spec.ts'];

class HeavyFilesPlaced extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const among = (list: string[], f: TestSpecification): number => list.findIndex((path) => f.moduleId.endsWith(`/${path}`));
    const rank = (f: TestSpecification): number => {
      const first = among(FIRST, f);
      if (first >= 0) return first;
      const last = among(LAST, f);
      return last >= 0 ? FIRST.length + 1 + last : FIRST.length;
    };
    const order = await super.sort(files);
    return order.map((f, i) => ({ f, i, r: rank(f) })).sort((a, b) => a.r - b.r || a.i - b.i).map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    maxWorkers: 2,
    sequence: { sequencer: HeavyFilesPlaced },
    reporters: ['default'],
    projects: [
      ...TIERS.map((tier) => ({
        test: {
          name: tier,
          include: SOURCES.map((dir) => `${dir}/**/*.${tier}.spec.ts`),
          ...shared,
          exclude: [...shared.exclude, 'test/hostile/**', 'test/fault/**'],
        },
      })),
      {
        test: {
          name: 'hostile',
          include: ['test/hostile/**/*.spec.ts'],
          ...shared,
        },
      },
      {
        test: {
          name: 'fault',
          include: ['test/fault/**/*.spec.ts'],
          ...shared,
          // One fault at a time: each file loads the machine and measures convergence.
          fileParallelism: false,
        },
      },
    ],
  },
});
