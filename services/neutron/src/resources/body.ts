/**
 * Reading a Neutron request body: each attribute's type checked as
 * Neutron's attribute validators do (a boolean may also be "true"/"false"
 * text, as Neutron's convert_to_boolean accepts), answering 400
 * InvalidInput naming the attribute. The REST core has already refused
 * unknown and read-only attributes; what a value means (a CIDR, a MAC, an
 * address inside a subnet) is the owning service's check.
 */
import type { Json } from '../resource.js';
import { invalidInput } from './errors.js';

const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v));

export const has = (body: Json, key: string): boolean => Object.hasOwn(body, key) && body[key] !== undefined;

export function str(body: Json, key: string): string | undefined {
  if (!has(body, key)) return undefined;
  const v = body[key];
  if (typeof v !== 'string') throw invalidInput(key, `${show(v)} is not a valid string`);
  return v;
}

/** A string or null (e.g. `gateway_ip: null` = no gateway); undefined when absent. */
export function nullableStr(body: Json, key: string): string | null | undefined {
  if (!has(body, key)) return undefined;
  return body[key] === null ? null : str(body, key);
}

export function bool(body: Json, key: string): boolean | undefined {
  if (!has(body, key)) return undefined;
  const v = body[key];
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && ['true', 'false'].includes(v.toLowerCase())) return v.toLowerCase() === 'true';
  throw invalidInput(key, `${show(v)} is not a valid boolean value`);
}

export function int(body: Json, key: string): number | undefined {
  if (!has(body, key)) return undefined;
  const v = body[key];
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalidInput(key, `${show(v)} is not an integer`);
  return n;
}

export function list(body: Json, key: string): unknown[] | undefined {
  if (!has(body, key)) return undefined;
  const v = body[key];
  if (!Array.isArray(v)) throw invalidInput(key, `${show(v)} is not a list`);
  return v;
}

export function strList(body: Json, key: string): string[] | undefined {
  const l = list(body, key);
  if (l === undefined) return undefined;
  for (const item of l) if (typeof item !== 'string') throw invalidInput(key, `${show(item)} is not a valid string`);
  return l as string[];
}

/** A list of dictionaries with only the given keys, each value a string (Neutron's fixed_ips, allocation_pools, host_routes, pairs). */
export function dictList<K extends string>(body: Json, key: string, keys: readonly K[], required: readonly K[] = []): Array<Partial<Record<K, string>>> | undefined {
  const l = list(body, key);
  if (l === undefined) return undefined;
  return l.map((item) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalidInput(key, `${show(item)} is not a dictionary`);
    const out: Partial<Record<K, string>> = {};
    for (const [k, v] of Object.entries(item)) {
      if (!(keys as readonly string[]).includes(k)) throw invalidInput(key, `Unrecognized key '${k}' in ${show(item)}; expected ${keys.join(', ')}`);
      if (typeof v !== 'string') throw invalidInput(key, `${show(v)} of '${k}' is not a valid string`);
      out[k as K] = v;
    }
    for (const k of required) if (out[k] === undefined) throw invalidInput(key, `'${k}' is missing in ${show(item)}`);
    return out;
  });
}

/** A dictionary attribute (binding:profile). */
export function dict(body: Json, key: string): Record<string, unknown> | undefined {
  if (!has(body, key)) return undefined;
  const v = body[key];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidInput(key, `${show(v)} is not a dictionary`);
  return v as Record<string, unknown>;
}

/** An attribute Strata accepts only with the one value it has (a network is always up, never shared, …); anything else is refused, never ignored. */
export function onlyValue<T>(value: T | undefined, key: string, allowed: T, why: string): void {
  if (value !== undefined && value !== allowed) throw invalidInput(key, `${show(value)} is not supported: ${why}`);
}
