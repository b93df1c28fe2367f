/**
 * A packet capture of the test's own control traffic: tcpdump on loopback
 * with a filter naming only the test's ports (nothing else on the machine
 * is recorded), written to a pcap file whose bytes the test then searches
 * for secrets. Stopped by its PID.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { waitFor } from '@strata/testing';
import { untilListening } from '../../support/tcpdump.js';

export interface Capture {
  /** Stop tcpdump and return everything it captured (the pcap file's bytes). */
  stop(): Promise<Buffer>;
}

export async function startCapture(ports: readonly number[], file: string): Promise<Capture> {
  const filter = ports.map((p) => `tcp port ${p}`).join(' or ');
  // --immediate-mode and -U: each packet is handed over and written as it comes (by default libpcap delivers
  // blocks, and what is still in one at SIGINT is lost); -s 0: whole packets.
  const proc = spawn('tcpdump', ['-i', 'lo', '-n', '--immediate-mode', '-U', '-s', '0', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  const { exited } = await untilListening(proc, 'tcpdump (scripts/setup.sh installs it)', 'tcpdump');
  return {
    async stop() {
      if (proc.exitCode === null) {
        // Everything sent before is captured once a marker sent last is in the file (in clear: a connection of its own).
        const marker = `capture-end-${randomBytes(8).toString('hex')}`;
        const socket = tcpConnect(ports[0]!, '127.0.0.1', () => socket.end(marker));
        socket.on('error', () => undefined);
        await waitFor(() => readFileSync(file).includes(marker), { timeoutMs: 10_000, message: 'the capture to record its end marker', intervalMs: 50 }).finally(() => socket.destroy());
        proc.kill('SIGINT');
      }
      await exited;
      return readFileSync(file);
    },
  };
}

/**
 * RFC 7541 (HPACK) Huffman codes of the characters bearer headers of the
 * control plane's and the compose lab's tokens hold ("Bearer ", lower-case
 * letters, digits, '-', '.', '_'): HTTP/2 sends a header value Huffman-coded
 * when that is shorter, so a token in clear text on the wire is this
 * encoding, not its ASCII.
 */
const HUFFMAN: Record<string, [code: number, bits: number]> = {
  ' ': [0x14, 6], B: [0x5d, 7], '-': [0x16, 6], '.': [0x17, 6], _: [0x22, 6],
  a: [0x3, 5], b: [0x23, 6], c: [0x4, 5], d: [0x24, 6], e: [0x5, 5], f: [0x25, 6], g: [0x26, 6], h: [0x27, 6], i: [0x6, 5], j: [0x74, 7],
  k: [0x75, 7], l: [0x28, 6], m: [0x29, 6], n: [0x2a, 6], o: [0x7, 5], p: [0x2b, 6], q: [0x76, 7], r: [0x2c, 6], s: [0x8, 5], t: [0x9, 5],
  u: [0x2d, 6], v: [0x77, 7], w: [0x78, 7], x: [0x79, 7], y: [0x7a, 7], z: [0x7b, 7],
  '0': [0x0, 5], '1': [0x1, 5], '2': [0x2, 5], '3': [0x19, 6], '4': [0x1a, 6], '5': [0x1b, 6], '6': [0x1c, 6], '7': [0x1d, 6], '8': [0x1e, 6], '9': [0x1f, 6],
};

/** The whole bytes of `text`'s HPACK Huffman encoding (the last, padded byte left out: it depends on nothing after). */
export function hpackHuffman(text: string): Buffer {
  let acc = 0n;
  let bits = 0;
  for (const ch of text) {
    const code = HUFFMAN[ch];
    if (!code) throw new Error(`no Huffman code here for ${JSON.stringify(ch)}`);
    acc = (acc << BigInt(code[1])) | BigInt(code[0]);
    bits += code[1];
  }
  const whole = Math.floor(bits / 8);
  const out = Buffer.alloc(whole);
  for (let i = 0; i < whole; i++) out[i] = Number((acc >> BigInt(bits - 8 * (i + 1))) & 0xffn);
  return out;
}

/** Every secret found in `bytes`, as ASCII or (a bearer token) as its HPACK encoding. */
export function secretsIn(bytes: Buffer, secrets: Record<string, string>, bearer: ReadonlySet<string>): string[] {
  return Object.entries(secrets)
    .filter(([name, value]) => bytes.includes(value) || (bearer.has(name) && bytes.includes(hpackHuffman(`Bearer ${value}`))))
    .map(([name]) => name);
}
