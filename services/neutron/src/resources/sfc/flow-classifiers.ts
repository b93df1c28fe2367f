/**
 * networking-sfc's flow classifier (`/v2.0/sfc/flow_classifiers`) is
 * Strata's flow classifier: ethertype, protocol, source and destination
 * CIDRs (`*_ip_prefix`), port ranges (`*_port_range_min/max`).
 *
 * Refused, not ignored: `logical_source_port` and `logical_destination_port`
 * (Strata classifies on the source host by addresses and security groups,
 * not by Neutron port: give the port's address as `source_ip_prefix`), and
 * any `l7_parameters` (networking-sfc itself defines none).
 *
 * A half-open port range reads as networking-sfc's drivers take it: only a
 * minimum means up to 65535, only a maximum from 1 (port 0 is no tcp/udp
 * port, so a minimum of 0 is 1). A protocol `null` is any protocol; Strata
 * also knows `icmpv6` (IPv6 classifiers). A classifier whose end is a
 * security group (made through the gRPC API) has no Neutron attribute for
 * it: that end shows as a null prefix, the one place this view says less
 * than Strata's (docs/architecture.md, "networking-sfc").
 */
import type { ChainingCommandInput, FlowClassifierView, PortRange } from '@strata/contracts';
import type { StrataError } from '@strata/errors';
import type { Json, ResourceDefinition } from '../../resource.js';
import { allPages, COMMON_ATTRIBUTES, commonOf, CREATE_ONLY, FLOW_CLASSIFIER_EXTENSION, invalid, notFoundType, ownerOf, textsOf, typed } from './common.js';

const PORT = { ...CREATE_ONLY, type: 'integer' } as const;

const PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6'] as const;
const ETHERTYPES = ['IPv4', 'IPv6'] as const;
const MAX_PORT = 65535;

export function flowClassifierOf(v: FlowClassifierView): Json {
  return {
    ...commonOf(v),
    ethertype: v.ethertype,
    protocol: v.protocol === 'any' ? null : v.protocol,
    source_port_range_min: v.sourcePorts?.min ?? null,
    source_port_range_max: v.sourcePorts?.max ?? null,
    destination_port_range_min: v.destinationPorts?.min ?? null,
    destination_port_range_max: v.destinationPorts?.max ?? null,
    source_ip_prefix: v.source.cidr,
    destination_ip_prefix: v.destination.cidr,
    logical_source_port: null,
    logical_destination_port: null,
    l7_parameters: {},
  };
}

/** networking-sfc's normalize_protocol: case-insensitive, null = any. */
function protocolOf(value: unknown): ChainingCommandInput<'classifier.create'>['protocol'] {
  if (value === undefined || value === null) return 'any';
  const p = typeof value === 'string' ? value.toLowerCase() : undefined;
  const known = PROTOCOLS.find((x) => x === p);
  if (known === undefined) {
    throw invalid('protocol', `Flow Classifier does not support protocol ${String(value)}. Supported protocol values are ${PROTOCOLS.join(', ')} (or null for any)`, 'FlowClassifierInvalidProtocol');
  }
  return known;
}

/** networking-sfc's normalize_ethertype: case-insensitive, null = IPv4. */
function ethertypeOf(value: unknown): 'IPv4' | 'IPv6' {
  if (value === undefined || value === null) return 'IPv4';
  const known = ETHERTYPES.find((x) => typeof value === 'string' && x.toLowerCase() === value.toLowerCase());
  if (known === undefined) {
    throw invalid('ethertype', `Flow Classifier does not support ethertype ${String(value)}. Supported ethertype values are ${ETHERTYPES.join(', ')}`, 'FlowClassifierInvalidEthertype');
  }
  return known;
}

/** networking-sfc's normalize_port_value: an integer (or its string) 0–65535, null for none. */
function portOf(body: Json, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PORT) throw invalid(key, `Flow Classifier has invalid port value ${String(value)}`, 'FlowClassifierInvalidPortValue');
  return n;
}

/** `<end>_port_range_min/max` as one range; the order of min and max is the service's to check. */
function rangeOf(body: Json, end: 'source' | 'destination'): PortRange | undefined {
  const min = portOf(body, `${end}_port_range_min`);
  const max = portOf(body, `${end}_port_range_max`);
  if (min === undefined && max === undefined) return undefined;
  return { min: Math.max(min ?? 1, 1), max: max ?? MAX_PORT };
}

function prefixOf(body: Json, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(key, `'${JSON.stringify(value)}' is not a valid IP subnet`);
  return value;
}

export function classifierCreateOf(body: Json): ChainingCommandInput<'classifier.create'> {
  for (const [key, end] of [
    ['logical_source_port', 'source'],
    ['logical_destination_port', 'destination'],
  ] as const) {
    if (body[key] !== undefined && body[key] !== null) {
      throw invalid(key, `Strata classifies flows by address, not by Neutron port: give the port's address as ${end}_ip_prefix (e.g. 10.0.0.5/32) instead of ${key}`);
    }
  }
  const l7 = body.l7_parameters;
  if (l7 !== undefined && l7 !== null && !(typeof l7 === 'object' && !Array.isArray(l7) && Object.keys(l7).length === 0)) {
    throw invalid(
      'l7_parameters',
      `Invalid Flow Classifier parameters: Unknown key ${Object.keys(l7 as object)[0] ?? String(l7)}. Supported flow classifier parameters are {} (Strata classifies on layers 3 and 4 only)`,
      'FlowClassifierInvalidL7Parameter',
    );
  }
  const source = prefixOf(body, 'source_ip_prefix');
  const destination = prefixOf(body, 'destination_ip_prefix');
  return {
    tenant: ownerOf(body),
    ...textsOf(body),
    ethertype: ethertypeOf(body.ethertype),
    protocol: protocolOf(body.protocol),
    source: source === undefined ? {} : { cidr: source },
    destination: destination === undefined ? {} : { cidr: destination },
    sourcePorts: rangeOf(body, 'source'),
    destinationPorts: rangeOf(body, 'destination'),
  };
}

/** A classifier in a chain cannot be deleted: networking-sfc's FlowClassifierInUse. */
const deleteType = (e: StrataError) => (e.code === 'FAILED_PRECONDITION' ? 'FlowClassifierInUse' : undefined);

export const flowClassifiers: ResourceDefinition = {
  path: 'sfc/flow_classifiers',
  collection: 'flow_classifiers',
  member: 'flow_classifier',
  notFound: 'FlowClassifierNotFound',
  notFoundMessage: (id) => `Flow Classifier ${id} not found.`,
  extensions: [FLOW_CLASSIFIER_EXTENSION],
  attributes: {
    ...COMMON_ATTRIBUTES,
    ethertype: CREATE_ONLY,
    protocol: CREATE_ONLY,
    source_port_range_min: PORT,
    source_port_range_max: PORT,
    destination_port_range_min: PORT,
    destination_port_range_max: PORT,
    source_ip_prefix: CREATE_ONLY,
    destination_ip_prefix: CREATE_ONLY,
    logical_source_port: CREATE_ONLY,
    logical_destination_port: CREATE_ONLY,
    l7_parameters: { ...CREATE_ONLY, type: 'object' },
  },
  async list(ctx) {
    const items = await allPages((after) => ctx.clients.chaining.query('classifier.list', { after }, ctx.meta));
    return items.map(flowClassifierOf);
  },
  async show(ctx, id) {
    return flowClassifierOf(await ctx.clients.chaining.query('classifier.get', { id }, ctx.meta));
  },
  async create(ctx, body) {
    return flowClassifierOf(await typed(ctx.clients.chaining.command('classifier.create', classifierCreateOf(body), ctx.meta), notFoundType));
  },
  async update(ctx, id, body, expectedRevision) {
    return flowClassifierOf(await typed(ctx.clients.chaining.command('classifier.update', { id, expectedRevision, ...textsOf(body) }, ctx.meta), notFoundType, id));
  },
  async delete(ctx, id) {
    await typed(ctx.clients.chaining.command('classifier.delete', { id }, ctx.meta), deleteType, id);
  },
};
