/** What every network, subnet and port representation shares, and reading all pages of a service list. */
import type { Json } from '../resource.js';
import { str } from './body.js';

/** Neutron's timestamps: RFC 3339 in UTC to the second (`2026-12-06T16:07:27Z`). */
export const neutronTime = (iso: string): string => `${new Date(iso).toISOString().slice(0, 19)}Z`;

/** A Keystone project is a Strata tenant: both names of the owner, as Neutron shows them. */
export const ownerOf = (tenant: string): Json => ({ tenant_id: tenant, project_id: tenant });

/** standard-attr-description, -revisions and -timestamp. */
export const standardAttributes = (v: { description: string; revision: number; createdAt: string; updatedAt: string }): Json => ({
  description: v.description,
  revision_number: v.revision,
  created_at: neutronTime(v.createdAt),
  updated_at: neutronTime(v.updatedAt),
});

/** The attribute specs of the attributes above, for a resource's attribute map. */
export const STANDARD_ATTRIBUTES = {
  id: { post: false, put: false },
  tenant_id: { post: true, put: false },
  project_id: { post: true, put: false },
  description: { post: true, put: true },
  revision_number: { post: false, put: false, type: 'integer' },
  created_at: { post: false, put: false },
  updated_at: { post: false, put: false },
} as const;

/**
 * The project a POST names (`project_id`, which the REST core has filled in
 * from the token when none was named and checked: both names agree, only
 * an admin names another project); undefined outside the core.
 */
export const requestedProject = (body: Json): string | undefined => str(body, 'project_id') ?? str(body, 'tenant_id');

/** Every item of a paged service list (the services page by id, at most 10,000 an answer). */
export async function allPages<T>(fetch: (page: { limit: number; after: string }) => Promise<{ items: T[]; next: string }>): Promise<T[]> {
  const out: T[] = [];
  let after = '';
  do {
    const page = await fetch({ limit: 10_000, after });
    out.push(...page.items);
    after = page.next;
  } while (after !== '');
  return out;
}

/** The one value of an equality filter, when the request filters on exactly one (a hint the service can use). */
export function singleFilter(filters: ReadonlyMap<string, readonly string[]>, key: string): string | undefined {
  const values = filters.get(key);
  return values?.length === 1 ? values[0] : undefined;
}

/**
 * The filter hints a list query takes, as far as its request schema accepts
 * them: a value no resource can have (`network_id=foo`) is no error in
 * Neutron but an empty list, which the core's own filtering gives.
 */
export function hintsFor<T extends object>(schema: { safeParse(v: unknown): { success: boolean } }, hints: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(hints) as [keyof T, T[keyof T]][]) {
    if (v !== undefined && schema.safeParse({ [k]: v }).success) out[k] = v;
  }
  return out;
}
