/**
 * The documents that describe the API itself: the version list at `/`
 * (neutron/api/views/versions.py), the core resources at `/v2.0`
 * (pecan_wsgi/controllers/root.py: only networks, subnets, subnetpools and
 * ports, whichever are served here) and the extensions
 * (api/extensions.py ExtensionController._translate).
 */
import type { ExtensionDescriptor, Json, ResourceDefinition } from './resource.js';

/** What the REST core itself implements for every resource (neutron-lib api definitions' texts). */
export const CORE_EXTENSIONS: readonly ExtensionDescriptor[] = [
  { alias: 'pagination', name: 'Pagination support', description: 'Extension that indicates that pagination is enabled.', updated: '2016-06-12T00:00:00-00:00' },
  { alias: 'sorting', name: 'Sorting support', description: 'Extension that indicates that sorting is enabled.', updated: '2016-06-12T00:00:00-00:00' },
  { alias: 'filter-validation', name: 'Filter parameters validation', description: 'Provides validation on filter parameters.', updated: '2018-07-04T10:00:00-00:00' },
  { alias: 'project-id', name: 'project_id field enabled', description: 'Extension that indicates that project_id field is enabled.', updated: '2016-09-09T09:09:09-09:09' },
  {
    alias: 'revision-if-match',
    name: 'If-Match constraints based on revision_number',
    description: 'Extension indicating that If-Match based on revision_number is supported.',
    updated: '2016-12-11T00:00:00-00:00',
  },
];

const CORE_RESOURCES: Readonly<Record<string, string>> = { networks: 'network', subnets: 'subnet', subnetpools: 'subnetpool', ports: 'port' };

export function versionsDocument(baseUrl: string): Json {
  return { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${baseUrl}/v2.0/` }] }] };
}

export function resourcesDocument(baseUrl: string, defs: readonly ResourceDefinition[]): Json {
  const served = new Set(defs.map((d) => d.path));
  const resources = Object.entries(CORE_RESOURCES)
    .filter(([collection]) => served.has(collection))
    .map(([collection, name]) => ({ name, collection, links: [{ rel: 'self', href: `${baseUrl}/v2.0/${collection}` }] }));
  return { resources };
}

/** Every extension once, by alias: the core's, then each module's in registration order. */
export function extensionsOf(defs: readonly ResourceDefinition[]): Map<string, ExtensionDescriptor> {
  const out = new Map<string, ExtensionDescriptor>();
  for (const ext of [...CORE_EXTENSIONS, ...defs.flatMap((d) => d.extensions ?? [])]) if (!out.has(ext.alias)) out.set(ext.alias, ext);
  return out;
}

export const extensionJson = (ext: ExtensionDescriptor): Json => ({ name: ext.name, alias: ext.alias, description: ext.description, updated: ext.updated, links: [] });
