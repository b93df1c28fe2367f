import { defineConfig } from 'vitest/config';

/**
 * Test tiers are in the file names: *.unit.spec.ts (pure, no I/O),
 * *.int.spec.ts (real nats-server and friends), *.e2e.spec.ts (real packets
 * in network namespaces). Integration tests start their own servers on free
 * ports, so files may run in parallel; the machine has two cores.
 */
export default defineConfig({
  test: {
    include: ['libs/*/src/**/*.spec.ts', 'services/*/src/**/*.spec.ts', 'cli/src/**/*.spec.ts', 'test/**/*.spec.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
