#!/usr/bin/env node
/**
 * `strata-bgp-appliance-key --group-ref REF --tenant T --device D`: prints the
 * TCP-MD5 key an appliance configures for its sessions with the gateways.
 * Run by the operator where the gateway's secrets are (the same
 * BGP_PASSWORD_<REF> variable or BGP_SECRETS_DIR); the group's secret itself
 * is never handed to an appliance.
 */
import { parseArgs } from 'node:util';
import { applianceKey, Secrets } from './app/secrets.js';

const { values } = parseArgs({ options: { 'group-ref': { type: 'string' }, tenant: { type: 'string' }, device: { type: 'string' } } });
const ref = values['group-ref'];
const { tenant, device } = values;
if (!ref || !tenant || !device) {
  process.stderr.write('usage: strata-bgp-appliance-key --group-ref <peer group passwordRef> --tenant <tenant> --device <device id>\n');
  process.exit(2);
}
try {
  process.stdout.write(`${applianceKey(new Secrets(process.env, process.env['BGP_SECRETS_DIR']).password(ref), tenant, device)}\n`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
