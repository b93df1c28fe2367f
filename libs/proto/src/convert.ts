import { PoolPurpose, type PoolPurpose__Output } from './generated/strata/v1/PoolPurpose.js';

/**
 * A uint64 from the wire (a decimal string with `longs: String`) as a
 * number, refusing values a double cannot hold exactly rather than rounding.
 */
export function toSafeInteger(value: string | number, what = 'value'): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} ${String(value)} is not a non-negative safe integer`);
  return n;
}

const PREFIX = 'POOL_PURPOSE_';

/** Contract spelling (`floating-ip`) to the proto enum name (`POOL_PURPOSE_FLOATING_IP`); unknown → UNSPECIFIED. */
export function poolPurposeToProto(purpose: string): PoolPurpose__Output {
  const name = PREFIX + purpose.toUpperCase().replaceAll('-', '_');
  return isPoolPurpose(name) ? name : 'POOL_PURPOSE_UNSPECIFIED';
}

/** Proto enum name to the contract spelling; UNSPECIFIED → '' (no purpose given). */
export function poolPurposeFromProto(purpose: PoolPurpose__Output | number): string {
  if (typeof purpose !== 'string' || purpose === 'POOL_PURPOSE_UNSPECIFIED') return '';
  return purpose.slice(PREFIX.length).toLowerCase().replaceAll('_', '-');
}

function isPoolPurpose(name: string): name is PoolPurpose__Output {
  return name !== PoolPurpose.POOL_PURPOSE_UNSPECIFIED && Object.hasOwn(PoolPurpose, name);
}
