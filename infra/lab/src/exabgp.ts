/**
 * A scripted BGP speaker for hostile tests: Debian's ExaBGP in its own
 * namespace on the BgpFabric's appliance segment, peering with both
 * gateways over TCP-MD5. What it announces is driven by a program ExaBGP
 * runs (its text API: `announce route …` / `withdraw route …` lines on
 * stdout), so a test can flap routes far faster than FRR's vtysh allows.
 * Started in the foreground, tracked and stopped by PID.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { APPLIANCE_AS, GATEWAY_AS, gwInSubnet, type BgpFabric } from './bgp-fabric.js';
import { startProcess, type ManagedProcess } from './process.js';

export interface ExaBgpOptions {
  role: string;
  address: string;
  /** Appliance subnet (1 or 2) of `address`. */
  subnet: number;
  password: string;
  /** argv of the API program ExaBGP runs (its stdout drives the announcements). */
  program: string[];
}

export async function startExaBgp(fabric: BgpFabric, o: ExaBgpOptions): Promise<ManagedProcess> {
  await fabric.attach(o.role, [`${o.address}/24`], `198.19.${o.subnet}.1`);
  const dir = join(fabric.dir, o.role);
  mkdirSync(dir, { recursive: true });
  // md5-base64 false: ExaBGP's default ('auto') base64-decodes a key made only of [a-f0-9],
  // which every per-appliance key is (40 hex digits), and the session then never comes up.
  const neighbours = gwInSubnet(o.subnet)
    .map(
      (gw) => `neighbor ${gw} {
  router-id ${o.address};
  local-address ${o.address};
  local-as ${APPLIANCE_AS};
  peer-as ${GATEWAY_AS};
  md5-password "${o.password}";
  md5-base64 false;
  family { ipv4 unicast; }
  api { processes [ driver ]; }
}
`,
    )
    .join('');
  const conf = join(dir, 'exabgp.conf');
  writeFileSync(conf, `process driver {\n  run ${o.program.join(' ')};\n  encoder text;\n}\n${neighbours}`);
  const ns = fabric.ns(o.role);
  return startProcess(`exabgp-${o.role}`, ['ip', 'netns', 'exec', ns, 'exabgp', conf], {
    env: {
      'exabgp.daemon.user': 'root',
      'exabgp.daemon.daemonize': 'false',
      'exabgp.daemon.pid': join(dir, 'exabgp.pid'),
      'exabgp.log.destination': 'stdout',
      'exabgp.log.level': 'INFO',
      'exabgp.api.ack': 'false',
      'exabgp.api.pipename': `exabgp-${ns}`,
      'exabgp.tcp.bind': '',
      'exabgp.cache.attributes': 'false',
    },
    readyWhen: /./,
  });
}
