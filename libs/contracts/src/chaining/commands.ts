/**
 * The service-chaining service's request schemas, one per operation;
 * contract.ts ties each to its operation, subject
 * (`strata.cmd|qry.chaining.<op>`) and reply.
 *
 * The schemas check each field on its own (types, ranges, canonical CIDR,
 * defaults); rules that tie fields together or read the state (a CIDR's
 * family against the ethertype, ports only for tcp/udp, a range's order, the
 * ports' tenant and legs) are checked by the service's domain, which answers
 * INVALID_ARGUMENT naming the field either way.
 */
import { z } from 'zod';
import { MAX_CHAIN_CLASSIFIERS, MAX_CHAIN_HOPS, MAX_GROUP_FUNCTIONS } from '../bounds.js';
import { Cidr, DisplayName, Id, IpAddress, ListOptions, TenantId } from '../common.js';
import { ExpectedRevision, immutable, UpdatedText } from '../updates.js';
import { ClassifierEthertype, ClassifierProtocol, FunctionMode, GroupFallback, GroupSelection, HealthCheckProtocol } from './views.js';

/** Admins may create for another tenant; a tenant caller may only name itself. */
const OnBehalfOf = { tenant: TenantId.optional() };

const whole = { message: 'must be a whole number' };
const between = (min: number, max: number, unit = '') =>
  z
    .number()
    .int(whole)
    .min(min, { message: `must be from ${min} to ${max}${unit}` })
    .max(max, { message: `must be from ${min} to ${max}${unit}` });

export const L4Port = between(1, 65535);

/** Health-check bounds: probes faster than 100 ms or slower than a minute help nobody; rise/fall count probes. */
export const HEALTH_INTERVAL_MS = { min: 100, max: 60_000, default: 2_000 } as const;
export const HEALTH_TIMEOUT_MS = { min: 50, max: 60_000, default: 1_000 } as const;
export const HEALTH_COUNT = { min: 1, max: 10, rise: 2, fall: 3 } as const;

/** A function's health check as a client sends it; the defaults make `{}` a sane ICMP check. tcp needs `port`, icmp has none. */
export const HealthCheckRequest = z.object({
  protocol: z.enum(HealthCheckProtocol).default('icmp'),
  port: L4Port.optional(),
  intervalMs: between(HEALTH_INTERVAL_MS.min, HEALTH_INTERVAL_MS.max, ' ms').default(HEALTH_INTERVAL_MS.default),
  /** At most the interval (checked by the domain: one probe at a time). */
  timeoutMs: between(HEALTH_TIMEOUT_MS.min, HEALTH_TIMEOUT_MS.max, ' ms').default(HEALTH_TIMEOUT_MS.default),
  rise: between(HEALTH_COUNT.min, HEALTH_COUNT.max).default(HEALTH_COUNT.rise),
  fall: between(HEALTH_COUNT.min, HEALTH_COUNT.max).default(HEALTH_COUNT.fall),
});

const FunctionIds = z
  .array(Id)
  .min(1, { message: 'a function group needs at least one function' })
  .max(MAX_GROUP_FUNCTIONS, { message: `a function group may have at most ${MAX_GROUP_FUNCTIONS} functions` });
const HopIds = z
  .array(Id)
  .min(1, { message: 'a chain needs at least one hop (function group)' })
  .max(MAX_CHAIN_HOPS, { message: `a chain may have at most ${MAX_CHAIN_HOPS} hops` });
const ClassifierIds = z
  .array(Id)
  .min(1, { message: 'a chain needs at least one classifier' })
  .max(MAX_CHAIN_CLASSIFIERS, { message: `a chain may have at most ${MAX_CHAIN_CLASSIFIERS} classifiers` });

export const CreateServiceFunction = z.object({
  ...OnBehalfOf,
  name: DisplayName,
  description: DisplayName,
  ingressPortId: Id,
  /** Omitted: the ingress port (a one-arm appliance). */
  egressPortId: Id.optional(),
  mode: z.enum(FunctionMode).default('l3'),
  /** The address a redundant pair shares; must be an allowed address (pair) of the ingress port. */
  virtualIp: IpAddress.optional(),
  /** Omitted: no health check (the function counts as healthy). */
  healthCheck: HealthCheckRequest.optional(),
});

export const CreateFunctionGroup = z.object({
  ...OnBehalfOf,
  name: DisplayName,
  description: DisplayName,
  /** In order: active-standby takes the first healthy one. Distinct (checked by the domain, naming the repeated id). */
  functionIds: FunctionIds,
  selection: z.enum(GroupSelection).default('active-standby'),
  fallback: z.enum(GroupFallback).default('fail-closed'),
});

/** One end of a classifier as sent: a security group or a CIDR (not both), or neither for "any". */
export const FlowEndpointRequest = z.object({ groupId: Id.optional(), cidr: Cidr.optional() });

export const PortRangeRequest = z.object({ min: L4Port, max: L4Port });

export const CreateFlowClassifier = z.object({
  ...OnBehalfOf,
  name: DisplayName,
  description: DisplayName,
  ethertype: z.enum(ClassifierEthertype).default('IPv4'),
  protocol: z.enum(ClassifierProtocol).default('any'),
  source: FlowEndpointRequest.default({}),
  destination: FlowEndpointRequest.default({}),
  /** tcp/udp only; inclusive. */
  sourcePorts: PortRangeRequest.optional(),
  destinationPorts: PortRangeRequest.optional(),
});

export const CreateChain = z.object({
  ...OnBehalfOf,
  name: DisplayName,
  description: DisplayName,
  /**
   * Omitted: the one router of the tenant that every leg of every hop's
   * members is on (networking-sfc's port chain names no router; the
   * service derives it, and refuses when none or several fit).
   */
  routerId: Id.optional(),
  /** The hops, in order: one function group each. */
  groupIds: HopIds,
  classifierIds: ClassifierIds,
  symmetric: z.boolean().default(true),
});

/*
 * Updates, as networking-sfc allows them (port pair, port pair group, flow
 * classifier, port chain `set`): names and descriptions everywhere; a
 * group's functions; a chain's hops and classifiers. What a resource is
 * wired to (legs, router) and a classifier's match are fixed at creation:
 * refused by name, not ignored. Absent = unchanged.
 */
const Updating = { id: Id, expectedRevision: ExpectedRevision.optional(), name: UpdatedText.optional(), description: UpdatedText.optional() };
const OWNER = immutable("a resource's tenant is fixed at creation");

export const UpdateServiceFunction = z.object({
  ...Updating,
  /** Replaces the whole check (defaults as at creation); null removes it (the function then counts as healthy). */
  healthCheck: HealthCheckRequest.nullable().optional(),
  tenant: OWNER,
  ingressPortId: immutable("a function's legs are fixed at creation (a port pair's ports in networking-sfc): create another function"),
  egressPortId: immutable("a function's legs are fixed at creation (a port pair's ports in networking-sfc): create another function"),
  mode: immutable("a function's mode is fixed at creation"),
  virtualIp: immutable("a function's virtual IP is fixed at creation"),
});

export const UpdateFunctionGroup = z.object({
  ...Updating,
  /** Replaces the members, in order (active-standby takes the first healthy one when the active member leaves). */
  functionIds: FunctionIds.optional(),
  tenant: OWNER,
  selection: immutable("a group's selection is fixed at creation"),
  fallback: immutable("a group's fallback is fixed at creation"),
});

const MATCH_FIXED = "a flow classifier's match is fixed at creation (as in networking-sfc): create a new classifier and put it in the chain instead";
export const UpdateFlowClassifier = z.object({
  ...Updating,
  tenant: OWNER,
  ethertype: immutable(MATCH_FIXED),
  protocol: immutable(MATCH_FIXED),
  source: immutable(MATCH_FIXED),
  destination: immutable(MATCH_FIXED),
  sourcePorts: immutable(MATCH_FIXED),
  destinationPorts: immutable(MATCH_FIXED),
});

export const UpdateChain = z.object({
  ...Updating,
  /** Replaces the hops, in order. */
  groupIds: HopIds.optional(),
  /** Replaces the classifiers. */
  classifierIds: ClassifierIds.optional(),
  tenant: OWNER,
  routerId: immutable("a chain's router is fixed at creation: create a chain on the other router"),
  symmetric: immutable('whether a chain is symmetric is fixed at creation'),
});

/** get and delete of every kind name the resource by id. */
export const ChainingRef = z.object({ id: Id });
export const ListChainingResources = ListOptions.extend({});
export const ChainingDigestRequest = z.object({});
