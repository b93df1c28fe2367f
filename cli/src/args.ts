/** Option-argument parsers: a bad value is a commander usage error (exit 2) before anything is sent. */
import { InvalidArgumentError } from 'commander';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
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
