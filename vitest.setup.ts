/**
 * Every test process authenticates its requests with one master secret, put
 * into its environment with every service's derived key before any test
 * runs: services spawned by tests inherit the keys (each uses its own),
 * test clients authenticate with the secret
 * (libs/runtime/src/command-auth.ts; services refuse unsigned requests).
 * The module, not the package: every test file runs this, and the
 * package's index (logging, metrics, tracing) costs a second or two a file.
 */
import { ensureHarnessCommandKeys } from '@strata/runtime/command-auth';

ensureHarnessCommandKeys();
