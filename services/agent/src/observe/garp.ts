/**
 * The GARP watcher's pure part: tcpdump's text → NFLOG records → ARP
 * packets → which are gratuitous ARPs to report.
 *
 * The kernel does the filtering (core/address-pairs.ts): a port's ARP whose
 * sender and target address lie within its IPv4 pairs, after anti-spoofing,
 * is logged to nflog group GARP_LOG_GROUP with the port's id as prefix. One
 * `tcpdump -i nflog:<group> -n -l -xx` per managed namespace prints each
 * record in hex, NFLOG header and TLVs included (the prefix is a TLV, which
 * tcpdump's own NFLOG printer leaves out), one header line then hex lines.
 *
 * NFLOG record (DLT_NFLOG): family (1), version (1), resource id (2, big
 * endian), then TLVs: length (2, host order: little endian here), type (2),
 * value, padded to 4 bytes. Type 9 is the payload (the ARP header on),
 * type 10 the prefix (NUL-terminated).
 */
import { pairsAdmit, type GarpObservation, type LocalPort } from '@strata/contracts';

const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;

/** One logged frame: the rule's prefix (the port id) and the ARP packet. */
export interface NflogRecord {
  prefix: string;
  payload: Uint8Array;
}

/** An ARP packet's fields the watcher reads. */
export interface ArpPacket {
  op: number;
  senderMac: string;
  senderIp: string;
  targetIp: string;
}

/**
 * Assembles tcpdump `-xx` output into NFLOG records. A record is emitted as
 * soon as its payload TLV is complete (not when the next header line comes:
 * a lone GARP must not wait for the next packet).
 */
export class TcpdumpHexReader {
  private bytes: number[] = [];
  private done = true;

  /** Feed one line; returns the record it completed, if any. */
  push(line: string): NflogRecord | null {
    const hex = /^\s+0x[0-9a-f]+:\s+((?:[0-9a-f]{2,4}\s?)+)/i.exec(line);
    if (!hex) {
      // A header line (timestamp ...) starts a new record.
      if (line.trim() !== '') {
        this.bytes = [];
        this.done = false;
      }
      return null;
    }
    if (this.done) return null;
    for (const group of hex[1]!.trim().split(/\s+/)) for (let i = 0; i + 1 < group.length; i += 2) this.bytes.push(parseInt(group.slice(i, i + 2), 16));
    const record = parseNflog(Uint8Array.from(this.bytes));
    if (record) this.done = true;
    return record;
  }
}

/** An NFLOG record with its prefix and a complete payload, or null (incomplete or not one). */
export function parseNflog(b: Uint8Array): NflogRecord | null {
  let prefix: string | null = null;
  for (let at = 4; at + 4 <= b.length; ) {
    const len = b[at]! | (b[at + 1]! << 8);
    const type = (b[at + 2]! | (b[at + 3]! << 8)) & 0x7fff;
    if (len < 4) return null;
    if (at + len > b.length) return null;
    const value = b.subarray(at + 4, at + len);
    if (type === NFULA_PREFIX) {
      const nul = value.indexOf(0);
      prefix = new TextDecoder().decode(nul < 0 ? value : value.subarray(0, nul));
    } else if (type === NFULA_PAYLOAD) {
      return prefix === null ? null : { prefix, payload: value };
    }
    at += (len + 3) & ~3;
  }
  return null;
}

/** An Ethernet/IPv4 ARP packet, or null. */
export function parseArp(p: Uint8Array): ArpPacket | null {
  if (p.length < 28) return null;
  const u16 = (i: number): number => (p[i]! << 8) | p[i + 1]!;
  if (u16(0) !== 1 || u16(2) !== 0x0800 || p[4] !== 6 || p[5] !== 4) return null;
  const mac = (i: number): string => Array.from(p.subarray(i, i + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
  const ip = (i: number): string => Array.from(p.subarray(i, i + 4)).join('.');
  return { op: u16(6), senderMac: mac(8), senderIp: ip(14), targetIp: ip(24) };
}

/** A gratuitous ARP: a request or reply whose sender and target address are the same. */
export const isGratuitous = (a: ArpPacket): boolean => (a.op === 1 || a.op === 2) && a.senderIp === a.targetIp && a.senderIp !== '0.0.0.0';

/**
 * How long the same (port, address, MAC) is reported once: keepalived sends
 * its GARPs in bursts. A port that loses the address meanwhile is heard
 * again at once (`setPorts`).
 */
export const GARP_DEDUP_MS = 1000;

/**
 * Which GARPs to report: of a local port that has pairs (the logged prefix
 * names it), for an address one of its pairs admits with the sender's MAC,
 * each (port, address, MAC) once per GARP_DEDUP_MS.
 */
export class GarpDecider {
  private ports = new Map<string, LocalPort>();
  private last = new Map<string, number>();

  constructor(private readonly hostId: string) {}

  /**
   * The local ports with pairs, from the current view. A port that has just
   * lost an address to another owner may take it back at once (VRRP
   * flapping): its next GARP for it is reported even within the window.
   */
  setPorts(ports: Iterable<LocalPort>): void {
    const before = this.ports;
    this.ports = new Map([...ports].filter((p) => (p.allowedAddressPairs?.length ?? 0) > 0).map((p) => [p.id, p]));
    const lost = new Set<string>();
    for (const [id, old] of before) {
      const now = new Set((this.ports.get(id)?.ownedAddresses ?? []).map((o) => o.ip));
      for (const o of old.ownedAddresses ?? []) if (!now.has(o.ip)) lost.add(`${id} ${o.ip} `);
    }
    for (const key of this.last.keys()) {
      if (!this.ports.has(key.slice(0, key.indexOf(' '))) || [...lost].some((l) => key.startsWith(l))) this.last.delete(key);
    }
  }

  get watching(): number {
    return this.ports.size;
  }

  decide(record: NflogRecord, nowMs: number): GarpObservation | null {
    const port = this.ports.get(record.prefix);
    const arp = parseArp(record.payload);
    if (!port || !arp || !isGratuitous(arp)) return null;
    if (!pairsAdmit(port.allowedAddressPairs, arp.senderIp, arp.senderMac)) return null;
    const key = `${port.id} ${arp.senderIp} ${arp.senderMac}`;
    const seen = this.last.get(key);
    if (seen !== undefined && nowMs - seen < GARP_DEDUP_MS) return null;
    this.last.set(key, nowMs);
    return { hostId: this.hostId, portId: port.id, ip: arp.senderIp, mac: arp.senderMac };
  }
}
