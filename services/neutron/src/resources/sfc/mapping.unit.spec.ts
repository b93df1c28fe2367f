/**
 * The pure halves of the networking-sfc modules: a Neutron body as the
 * chaining command it becomes, a chaining view as networking-sfc's
 * representation. (The same against the real service: sfc.int.spec.ts.)
 */
import { describe, expect, it } from 'vitest';
import { NotFoundError, StrataError } from '@strata/errors';
import type { ChainView, FlowClassifierView, FunctionGroupView, ServiceFunctionView } from '@strata/contracts';
import { classifierCreateOf, flowClassifierOf } from './flow-classifiers.js';
import { chainCreateOf, chainUpdateOf, portChainOf } from './port-chains.js';
import { groupCreateOf, groupUpdateOf, portPairGroupOf } from './port-pair-groups.js';
import { functionCreateOf, portPairOf } from './port-pairs.js';
import { notFoundType, typed } from './common.js';
import { NeutronHttpError } from '../../errors.js';

const P = '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b';
const Q = '4f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b';
const base = { id: P, tenant: 'proj', name: 'n', createdAt: '2026-01-01T00:00:00.000Z', description: 'd', revision: 3 };
const common = { id: P, name: 'n', description: 'd', tenant_id: 'proj', project_id: 'proj', revision_number: 3 };

/** What the REST core answers for a refusal: its status, NeutronError type and message. */
function refusal(f: () => unknown): { status: number; type: string; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof NeutronHttpError) return { status: e.status, type: e.type, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('port pairs', () => {
  it('are L3 functions on their two legs; the owner is tenant_id or project_id', () => {
    expect(functionCreateOf({ ingress: P, egress: Q, name: null, project_id: 'proj', tenant_id: 'proj' })).toEqual({ tenant: 'proj', name: '', ingressPortId: P, egressPortId: Q, mode: 'l3' });
    expect(refusal(() => functionCreateOf({ ingress: 7, egress: P }))).toEqual({ status: 400, type: 'HTTPBadRequest', message: "Invalid input for ingress. Reason: '7' is not a valid UUID." });
    expect(refusal(() => functionCreateOf({ ingress: P, egress: P, service_function_parameters: { correlation: 'nsh' } }))).toMatchObject({ status: 400, message: expect.stringMatching(/^Invalid input for service_function_parameters\. Reason: correlation 'nsh' is not supported/) });
  });

  it('show correlation none and weight 1 whatever the function\'s mode or health check', () => {
    const v: ServiceFunctionView = { ...base, ingressPortId: P, egressPortId: Q, mode: 'wire', virtualIp: null, healthCheck: null, healthy: false };
    expect(portPairOf(v)).toEqual({ ...common, ingress: P, egress: Q, service_function_parameters: { correlation: null, weight: 1 } });
  });
});

describe('port pair groups', () => {
  it('are flow-hash, fail-closed groups; one id reads as a list of one', () => {
    expect(groupCreateOf({ port_pairs: P })).toEqual({ tenant: undefined, functionIds: [P], selection: 'flow-hash', fallback: 'fail-closed' });
    expect(groupCreateOf({ port_pairs: [P, Q], tap_enabled: 'False', port_pair_group_parameters: null })).toMatchObject({ functionIds: [P, Q] });
  });

  it('update only what is given; an emptied group is refused, naming port_pairs', () => {
    expect(groupUpdateOf(P, { name: 'x' }, 2)).toEqual({ id: P, expectedRevision: 2, name: 'x' });
    expect(groupUpdateOf(P, { port_pairs: [Q] }, undefined)).toEqual({ id: P, expectedRevision: undefined, functionIds: [Q] });
    expect(refusal(() => groupUpdateOf(P, { port_pairs: null }, undefined))).toMatchObject({ status: 400, message: expect.stringContaining('Invalid input for port_pairs') });
  });

  it('show the members in order, the default parameters, no tap and no group number', () => {
    const v: FunctionGroupView = { ...base, functionIds: [Q, P], selection: 'active-standby', fallback: 'fail-open', activeFunctionId: Q };
    expect(portPairGroupOf(v)).toEqual({
      ...common,
      port_pairs: [Q, P],
      port_pair_group_parameters: { lb_fields: [], ppg_n_tuple_mapping: { ingress_n_tuple: {}, egress_n_tuple: {} } },
      tap_enabled: false,
      group_id: null,
    });
  });
});

describe('flow classifiers', () => {
  it('read half-open port ranges as networking-sfc\'s drivers do, and port 0 as 1', () => {
    expect(classifierCreateOf({ protocol: 'udp', source_port_range_max: 53, destination_port_range_min: 0 })).toMatchObject({
      protocol: 'udp',
      sourcePorts: { min: 1, max: 53 },
      destinationPorts: { min: 1, max: 65535 },
    });
    expect(classifierCreateOf({})).toEqual({ tenant: undefined, ethertype: 'IPv4', protocol: 'any', source: {}, destination: {}, sourcePorts: undefined, destinationPorts: undefined });
    expect(classifierCreateOf({ protocol: 'ICMPv6', ethertype: 'ipv6', source_ip_prefix: '2001:db8::/64' })).toMatchObject({ protocol: 'icmpv6', ethertype: 'IPv6', source: { cidr: '2001:db8::/64' } });
  });

  it('refuse logical ports and L7 parameters with what to do instead; an empty l7_parameters is fine', () => {
    expect(refusal(() => classifierCreateOf({ logical_source_port: P }))).toMatchObject({ status: 400, message: expect.stringMatching(/^Invalid input for logical_source_port\. Reason: .*source_ip_prefix/) });
    expect(refusal(() => classifierCreateOf({ logical_destination_port: P }))).toMatchObject({ status: 400, message: expect.stringContaining('destination_ip_prefix') });
    expect(refusal(() => classifierCreateOf({ l7_parameters: { x: 1 } }))).toMatchObject({ type: 'FlowClassifierInvalidL7Parameter' });
    expect(classifierCreateOf({ l7_parameters: {}, logical_source_port: null })).toMatchObject({ protocol: 'any' });
    expect(refusal(() => classifierCreateOf({ destination_port_range_min: 'eighty' }))).toMatchObject({ type: 'FlowClassifierInvalidPortValue' });
  });

  it('show any protocol as null and a security-group end as no prefix', () => {
    const v: FlowClassifierView = { ...base, ethertype: 'IPv4', protocol: 'any', source: { groupId: Q, cidr: null }, destination: { groupId: null, cidr: '10.0.0.0/8' }, sourcePorts: null, destinationPorts: null };
    expect(flowClassifierOf(v)).toMatchObject({ protocol: null, source_ip_prefix: null, destination_ip_prefix: '10.0.0.0/8', source_port_range_min: null, l7_parameters: {} });
  });
});

describe('port chains', () => {
  it('name no router, are asymmetric unless chain_parameters say so, and accept chain_id 0 ("choose one")', () => {
    expect(chainCreateOf({ port_pair_groups: [P], flow_classifiers: Q, chain_id: 0 })).toEqual({ tenant: undefined, groupIds: [P], classifierIds: [Q], symmetric: false });
    expect(chainCreateOf({ port_pair_groups: [P], flow_classifiers: [Q], chain_parameters: { symmetric: 'True', correlation: null } })).toMatchObject({ symmetric: true });
    expect(refusal(() => chainCreateOf({ port_pair_groups: [P], flow_classifiers: [Q], chain_parameters: { symmetric: 'maybe' } }))).toMatchObject({ message: expect.stringContaining('chain_parameters') });
    expect(refusal(() => chainCreateOf({ port_pair_groups: [P], flow_classifiers: [Q], chain_parameters: { correlation: 'nsh' } }))).toMatchObject({ message: expect.stringContaining('NSH') });
  });

  it('update hops and classifiers only when given, never to none', () => {
    expect(chainUpdateOf(P, { flow_classifiers: [Q] }, 4)).toEqual({ id: P, expectedRevision: 4, classifierIds: [Q] });
    expect(refusal(() => chainUpdateOf(P, { flow_classifiers: [] }, undefined))).toMatchObject({ message: expect.stringContaining('flow_classifiers') });
    expect(refusal(() => chainUpdateOf(P, { port_pair_groups: [] }, undefined))).toMatchObject({ type: 'PortPairGroupNotSpecified' });
  });

  it('show no correlation and no chain number', () => {
    const v: ChainView = { ...base, routerId: Q, groupIds: [P], classifierIds: [Q], symmetric: true };
    expect(portChainOf(v)).toEqual({ ...common, port_pair_groups: [P], flow_classifiers: [Q], chain_parameters: { correlation: null, symmetric: true }, chain_id: null });
  });
});

describe('typed', () => {
  it('answers a service refusal as networking-sfc\'s exception with the service\'s message; leaves the rest to the core', async () => {
    const inUse = new StrataError('FAILED_PRECONDITION', 'function f is in group g', { groupId: Q });
    await expect(typed(Promise.reject(inUse), () => 'PortPairInUse')).rejects.toMatchObject({ status: 409, type: 'PortPairInUse', message: 'function f is in group g' });
    const missing = new NotFoundError('service function', Q);
    await expect(typed(Promise.reject(missing), notFoundType)).rejects.toMatchObject({ status: 404, type: 'PortPairNotFound' });
    // The URL's own resource missing: the core's notFound answer, not a module's.
    await expect(typed(Promise.reject(missing), notFoundType, Q)).rejects.toBe(missing);
    const other = new StrataError('INTERNAL', 'boom');
    await expect(typed(Promise.reject(other), () => 'X')).rejects.toBe(other);
    await expect(typed(Promise.resolve(5), () => 'X')).resolves.toBe(5);
  });
});
