import { createHash } from 'node:crypto';

/**
 * sha256 over the state with sorted keys: equal digests ⇔ equal states,
 * however they were built. Instances (and a replay) compare their states
 * by it.
 */
export function stateDigest(s: { seq: number }): { seq: number; sha256: string } {
  const hash = createHash('sha256');
  writeCanonical(s, (chunk) => hash.update(chunk));
  return { seq: s.seq, sha256: hash.digest('hex') };
}

/**
 * Write a JSON value canonically: object keys sorted, no white space, array
 * order kept. Streamed in chunks, so a large state is never one string.
 */
export function writeCanonical(value: unknown, out: (chunk: string) => void): void {
  if (value === null || typeof value !== 'object') {
    out(JSON.stringify(value));
    return;
  }
  if (Array.isArray(value)) {
    out('[');
    value.forEach((v, i) => {
      if (i) out(',');
      writeCanonical(v, out);
    });
    out(']');
    return;
  }
  out('{');
  Object.keys(value)
    .sort()
    .forEach((k, i) => {
      if (i) out(',');
      out(JSON.stringify(k) + ':');
      writeCanonical((value as Record<string, unknown>)[k], out);
    });
  out('}');
}
