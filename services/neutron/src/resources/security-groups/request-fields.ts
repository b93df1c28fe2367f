/** Reading a POST/PUT body's plain fields as Neutron's converters do; the service checks lengths and ownership. */
import type { Json } from '../../resource.js';
import { invalidInput, raise } from './faults.js';

/** The owner of a POST: its `project_id`, which the REST core has filled in (the token's project unless an admin named another). */
export function ownerOf(body: Json): string | undefined {
  const owner = body.project_id;
  if (owner === undefined || owner === null) return undefined;
  return typeof owner === 'string' ? owner : raise(invalidInput('project_id', `'${JSON.stringify(owner)}' is not a valid string`));
}

/** `name` and `description` as given (null reads as ''), only those present. */
export function textsOf(body: Json): { name?: string; description?: string } {
  const out: { name?: string; description?: string } = {};
  for (const key of ['name', 'description'] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (value === null) out[key] = '';
    else if (typeof value === 'string') out[key] = value;
    else raise(invalidInput(key, `'${JSON.stringify(value)}' is not a valid string`));
  }
  return out;
}
