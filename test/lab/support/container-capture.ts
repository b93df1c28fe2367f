/**
 * A packet capture inside a compose-lab container's network namespace:
 * tcpdump runs in a container of its own that joins the namespace
 * (`--net container:<id>`), so nothing is captured, or changed, in the
 * host's root namespace. The pcap file is written to a host directory the
 * test then reads. Stopped with SIGINT (tcpdump writes what it has and exits).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { untilListening } from '../../support/tcpdump.js';

export interface ContainerCapture {
  /** Stop tcpdump; the pcap file's bytes and its path on the host. */
  stop(): Promise<{ bytes: Buffer; file: string }>;
}

export interface CaptureOptions {
  /** The container whose network namespace is captured. */
  container: string;
  /** An image with tcpdump (the lab's system image). */
  image: string;
  /** Host directory for the pcap file. */
  dir: string;
  /** File name (without .pcap) and the capturing container's name suffix. */
  name: string;
  /** A pcap filter. */
  filter: string;
  /** A label put on the capturing container, so a test can find (and remove) any it left. */
  label: string;
}

export async function captureInContainer(o: CaptureOptions): Promise<ContainerCapture> {
  const name = `${o.label.replace(/[^a-zA-Z0-9_.-]/g, '-')}-${o.name}`;
  // --immediate-mode and -U: each packet is written as it comes, so SIGINT loses nothing; -s 0: whole packets.
  const proc = spawn(
    'docker',
    ['run', '--rm', '--name', name, '--label', o.label, '--net', `container:${o.container}`, '--cap-add', 'NET_RAW', '-v', `${o.dir}:/capture`, o.image,
      'tcpdump', '-i', 'any', '-n', '--immediate-mode', '-U', '-s', '0', '-w', `/capture/${o.name}.pcap`, o.filter],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const { exited, stderr } = await untilListening(proc, 'docker', `tcpdump in ${o.container}'s namespace`);
  const file = join(o.dir, `${o.name}.pcap`);
  return {
    async stop() {
      spawnSync('docker', ['kill', '--signal', 'INT', name], { stdio: 'ignore' });
      const code = await exited;
      if (code !== 0) throw new Error(`tcpdump in ${o.container}'s namespace ended with ${code}: ${stderr()}`);
      return { bytes: readFileSync(file), file };
    },
  };
}

/** How many packets of the capture file match a pcap filter (read with the host's tcpdump; reading changes nothing). */
export function countPackets(file: string, filter: string): number {
  const r = spawnSync('tcpdump', ['-r', file, '-n', filter], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`tcpdump -r ${file} '${filter}': ${r.stderr || r.error?.message}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

/** A TLS record of this content type at the start of a TCP payload (0x16 handshake, 0x17 application data). */
export function tlsRecord(type: 0x16 | 0x17): string {
  return `tcp[((tcp[12:1] & 0xf0) >> 2):1] = ${type}`;
}
