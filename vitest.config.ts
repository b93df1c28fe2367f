import { defineConfig } from 'vitest/config';

/**
 * Test tiers are in the file names: *.unit.spec.ts (pure, no I/O),
 * *.int.spec.ts (real nats-server and friends), *.e2e.spec.ts (real packets
 * in network namespaces). Integration tests start their own servers on free
 * ports, so files may run in parallel; the machine has two cores.
 *
 * Two projects: `suite` (everything above) and `hostile` (test/hostile: each
 * file performs an attack or a fault against the real components with
 * production users and permissions, and fails if the attack succeeds).
 * `vitest run` runs both; `vitest run --project hostile` only the attacks.
 */
const shared = {
  exclude: ['**/node_modules/**', '**/dist/**'],
  pool: 'forks' as const,
  testTimeout: 120_000,
  hookTimeout: 120_000,
  setupFiles: ['./vitest.setup.ts'],
};

export default defineConfig({
  test: {
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'suite',
          include: ['libs/*/src/**/*.spec.ts', 'services/*/src/**/*.spec.ts', 'cli/src/**/*.spec.ts', 'test/**/*.spec.ts'],
          ...shared,
          exclude: [...shared.exclude, 'test/hostile/**'],
        },
      },
      {
        test: {
          name: 'hostile',
          include: ['test/hostile/**/*.spec.ts'],
          ...shared,
        },
      },
    ],
  },
});
