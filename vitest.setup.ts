/**
 * Every test process signs its requests with one Ed25519 key pair, put into
 * its environment before any test runs: services spawned by tests inherit
 * the verify key, test clients sign with the private key
 * (libs/runtime/src/command-auth.ts; services refuse unsigned requests).
 */
import { ensureHarnessCommandKeys } from '@strata/runtime';

ensureHarnessCommandKeys();
