#!/usr/bin/env node
/**
 * Prints a fresh Ed25519 key pair for authenticated commands
 * (docs/architecture.md, "NATS security"), as environment assignments:
 *
 *   node infra/nats/command-keys.mjs          (after npm run build)
 *
 * STRATA_COMMAND_SIGNING_KEY goes to the api only (the one legitimate sender
 * of commands and queries); STRATA_COMMAND_VERIFY_KEYS to every service
 * (comma-separate several public keys while rotating).
 */
import { generateCommandKeys } from '../../libs/runtime/dist/command-auth.js';

const { signingKey, verifyKey } = generateCommandKeys();
process.stdout.write(`STRATA_COMMAND_SIGNING_KEY=${signingKey}\nSTRATA_COMMAND_VERIFY_KEYS=${verifyKey}\n`);
