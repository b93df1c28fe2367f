/** Option-argument parsers: a bad value is a commander usage error (exit 2) before anything is sent. */
import { InvalidArgumentError } from 'commander';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/**
 * `--reason`: refused when blank here, because gRPC drops leading and trailing
 * spaces from metadata and the API would never see it; its length and
 * characters are the API's to check (one limit, MAX_REASON_LENGTH).
 */
export function reasonText(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must not be blank');
  return value;
}

/** For repeatable options: `--type a --type b` → ['a', 'b']. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `START-END` → an allocation pool. */
export function allocationPool(value: string, previous: Array<{ start: string; end: string }> | undefined) {
  const [start, end, ...rest] = value.split('-');
  if (!start || !end || rest.length > 0) throw new InvalidArgumentError('must be START-END, e.g. 10.0.0.10-10.0.0.99');
  return [...(previous ?? []), { start, end }];
}

/** `subnet=ID`, `ip=ADDR` or `subnet=ID,ip=ADDR` → a wanted fixed IP. */
export function fixedIp(value: string, previous: Array<{ subnetId?: string; ip?: string }> | undefined) {
  const spec: { subnetId?: string; ip?: string } = {};
  for (const part of value.split(',')) {
    const [key, v, ...rest] = part.split('=');
    if (!v || rest.length > 0) throw new InvalidArgumentError('must be subnet=ID, ip=ADDR or subnet=ID,ip=ADDR');
    if (key === 'subnet') spec.subnetId = v;
    else if (key === 'ip') spec.ip = v;
    else throw new InvalidArgumentError(`unknown key ${key}: use subnet= and ip=`);
  }
  return [...(previous ?? []), spec];
}

/** `destination=CIDR,nexthop=ADDR` → a static route (a subnet's host route, a router's extra route). */
export function route(value: string, previous: Array<{ destination: string; nexthop: string }> | undefined) {
  const spec: { destination?: string; nexthop?: string } = {};
  for (const part of value.split(',')) {
    const [key, v, ...rest] = part.split('=');
    if (!v || rest.length > 0 || (key !== 'destination' && key !== 'nexthop')) throw new InvalidArgumentError('must be destination=CIDR,nexthop=ADDR');
    spec[key] = v;
  }
  if (spec.destination === undefined || spec.nexthop === undefined) throw new InvalidArgumentError('needs destination=CIDR and nexthop=ADDR');
  return [...(previous ?? []), { destination: spec.destination, nexthop: spec.nexthop }];
}

/** `ip=ADDR|CIDR` or `ip=ADDR|CIDR,mac=MAC` → an allowed address pair (no mac: the port's own). */
export function addressPair(value: string, previous: Array<{ ipAddress: string; macAddress?: string }> | undefined) {
  const spec: { ipAddress?: string; macAddress?: string } = {};
  for (const part of value.split(',')) {
    const [key, v, ...rest] = part.split('=');
    if (!v || rest.length > 0) throw new InvalidArgumentError('must be ip=ADDR[/LEN] or ip=ADDR[/LEN],mac=MAC');
    if (key === 'ip') spec.ipAddress = v;
    else if (key === 'mac') spec.macAddress = v;
    else throw new InvalidArgumentError(`unknown key ${key}: use ip= and mac=`);
  }
  if (spec.ipAddress === undefined) throw new InvalidArgumentError('needs ip=ADDR[/LEN]');
  return [...(previous ?? []), { ipAddress: spec.ipAddress, ...(spec.macAddress === undefined ? {} : { macAddress: spec.macAddress }) }];
}

/** What the API's uint32 fields carry: more cannot be sent, less is the server's to judge (its message names the field). */
const UINT32_MAX = 0xffff_ffff;

function wholeNumber(value: string, message: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > UINT32_MAX) throw new InvalidArgumentError(message);
  return n;
}

/** A port number. Digits only; the 1-65535 range is checked by the server. */
export function portNumber(value: string): number {
  return wholeNumber(value, 'must be a port number from 1 to 65535');
}

/**
 * `--federation-tag`: a security group's federation tag, 1 to 65535 (the API
 * enforces the range too). 0 is refused here: the API reads an update's 0 as
 * "remove the tag", which the CLI spells --no-federation-tag.
 */
export function federationTag(value: string): number {
  const message = 'must be a federation tag from 1 to 65535 (--no-federation-tag removes it)';
  const n = wholeNumber(value, message);
  if (n < 1) throw new InvalidArgumentError(message);
  return n;
}

/** `MIN-MAX` → an inclusive port range, e.g. 1000-2000. */
export function portRange(value: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(value);
  const message = 'must be MIN-MAX, e.g. 1000-2000';
  if (!m) throw new InvalidArgumentError(message);
  return { min: wholeNumber(m[1]!, message), max: wholeNumber(m[2]!, message) };
}

/** An ICMP type or code. Digits only; the 0-255 range is checked by the server. */
export function icmpNumber(value: string): number {
  return wholeNumber(value, 'must be a number from 0 to 255');
}

const DURATION = /^(\d+)(ms|s|m)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/** `500ms`, `90s`, `2m` or plain seconds (`60`) → milliseconds, at least 1 ms. */
export function duration(value: string): number {
  const m = DURATION.exec(value);
  const ms = m ? Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS] : NaN;
  if (!Number.isSafeInteger(ms) || ms < 1) throw new InvalidArgumentError('must be a duration like 60s, 2m or 500ms');
  return ms;
}
