#!/usr/bin/env node
/**
 * Prints a fresh command-authentication master secret and each service's
 * key derived from it (docs/architecture.md, "Authenticated requests"), as
 * environment assignments:
 *
 *   node infra/nats/command-keys.mjs          (after npm run build)
 *
 * STRATA_COMMAND_SIGNING_KEY goes to the api only (the one legitimate sender
 * of commands and queries). Each service gets ONLY its own line as its
 * STRATA_COMMAND_VERIFY_KEYS (ipam's to ipam, ...): a service holding
 * another's key could make requests that service accepts. While rotating,
 * give a service its old and new entries, comma-separated.
 */
import { COMMAND_SERVICES, commandVerifyEntry, generateCommandKeys } from '../../libs/runtime/dist/command-auth.js';

const { signingKey } = generateCommandKeys();
const lines = [`# api only`, `STRATA_COMMAND_SIGNING_KEY=${signingKey}`];
for (const service of COMMAND_SERVICES) lines.push(`# ${service} only`, `STRATA_COMMAND_VERIFY_KEYS=${commandVerifyEntry(signingKey, service)}`);
process.stdout.write(`${lines.join('\n')}\n`);
