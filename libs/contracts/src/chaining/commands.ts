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

export const CreateServiceFunction = z.object({
  ...OnBehalfOf,
  name: DisplayName,
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
  /** In order: active-standby takes the first healthy one. Distinct (checked by the domain, naming the repeated id). */
  functionIds: z
    .array(Id)
    .min(1, { message: 'a function group needs at least one function' })
    .max(MAX_GROUP_FUNCTIONS, { message: `a function group may have at most ${MAX_GROUP_FUNCTIONS} functions` }),
  selection: z.enum(GroupSelection).default('active-standby'),
  fallback: z.enum(GroupFallback).default('fail-closed'),
});

/** One end of a classifier as sent: a security group or a CIDR (not both), or neither for "any". */
export const FlowEndpointRequest = z.object({ groupId: Id.optional(), cidr: Cidr.optional() });

export const PortRangeRequest = z.object({ min: L4Port, max: L4Port });

export const CreateFlowClassifier = z.object({
  ...OnBehalfOf,
  name: DisplayName,
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
  routerId: Id,
  /** The hops, in order: one function group each. */
  groupIds: z
    .array(Id)
    .min(1, { message: 'a chain needs at least one hop (function group)' })
    .max(MAX_CHAIN_HOPS, { message: `a chain may have at most ${MAX_CHAIN_HOPS} hops` }),
  classifierIds: z
    .array(Id)
    .min(1, { message: 'a chain needs at least one classifier' })
    .max(MAX_CHAIN_CLASSIFIERS, { message: `a chain may have at most ${MAX_CHAIN_CLASSIFIERS} classifiers` }),
  symmetric: z.boolean().default(true),
});

/** get and delete of every kind name the resource by id. */
export const ChainingRef = z.object({ id: Id });
export const ListChainingResources = ListOptions.extend({});
export const ChainingDigestRequest = z.object({});
