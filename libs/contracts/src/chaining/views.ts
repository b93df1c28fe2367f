/**
 * The service-chaining model: the shapes its events record, its queries
 * answer and the host view carries (learned from networking-sfc's port
 * pairs / port pair groups / flow classifiers / port chains and Nuage's
 * redirection targets; the names are Strata's).
 *
 *   service function  an appliance VM's legs (ingress and egress port; the
 *                     same port for a one-arm appliance), its mode, an
 *                     optional virtual IP shared by a redundant pair, and a
 *                     health check run by the agent on the appliance's host.
 *   function group    the functions that can serve one hop, and how one is
 *                     chosen for a flow (active-standby or flow-hash) and
 *                     what happens when none is usable (fail-closed/-open).
 *   classifier        which flows a chain takes: ethertype, protocol,
 *                     source/destination security group or CIDR, port ranges.
 *   chain             ordered function groups + classifiers on one tenant
 *                     router (routing domain), symmetric or not.
 */
import { z } from 'zod';

/** L3: the appliance is a routed next hop. WIRE: a transparent bump in the wire, frames pass untouched. */
export const FunctionMode = ['l3', 'wire'] as const;
export type FunctionMode = (typeof FunctionMode)[number];

/** active-standby: one active member (health + gratuitous ARP for the virtual IP). flow-hash: each flow sticks to one healthy member, both directions alike. */
export const GroupSelection = ['active-standby', 'flow-hash'] as const;
export type GroupSelection = (typeof GroupSelection)[number];

/** When no member of a hop is usable: drop the chain's flows (default) or let them bypass the hop. */
export const GroupFallback = ['fail-closed', 'fail-open'] as const;
export type GroupFallback = (typeof GroupFallback)[number];

export const ClassifierEthertype = ['IPv4', 'IPv6'] as const;
export type ClassifierEthertype = (typeof ClassifierEthertype)[number];

/** `any`: every protocol of the ethertype. */
export const ClassifierProtocol = ['tcp', 'udp', 'icmp', 'icmpv6', 'any'] as const;
export type ClassifierProtocol = (typeof ClassifierProtocol)[number];

export const HealthCheckProtocol = ['icmp', 'tcp'] as const;

/** How the agent on the appliance's host probes a function's ingress address. */
export const HealthCheck = z.object({
  protocol: z.enum(HealthCheckProtocol),
  /** tcp only: the port connected to; null for icmp. */
  port: z.number().int().nullable(),
  intervalMs: z.number().int(),
  timeoutMs: z.number().int(),
  /** Consecutive successes that bring an unhealthy function back. */
  rise: z.number().int(),
  /** Consecutive failures that take a healthy function out. */
  fall: z.number().int(),
});
export type HealthCheck = z.infer<typeof HealthCheck>;

/** One end of a classifier: a security group (its members' addresses), a CIDR, or anything (both null). */
export const FlowEndpoint = z.object({
  groupId: z.string().nullable(),
  cidr: z.string().nullable(),
});
export type FlowEndpoint = z.infer<typeof FlowEndpoint>;

/** Inclusive; tcp/udp only. */
export const PortRange = z.object({ min: z.number().int(), max: z.number().int() });
export type PortRange = z.infer<typeof PortRange>;

/** A flow classifier exactly as events record it and the host view carries it. */
export const FlowClassifier = z.object({
  id: z.string(),
  ethertype: z.enum(ClassifierEthertype),
  protocol: z.enum(ClassifierProtocol),
  source: FlowEndpoint,
  destination: FlowEndpoint,
  sourcePorts: PortRange.nullable(),
  destinationPorts: PortRange.nullable(),
});
export type FlowClassifier = z.infer<typeof FlowClassifier>;

/** Why a function's health or a group's active member changed: every failover is audited with its cause. */
export const HealthReason = ['check-failed', 'check-recovered', 'port-unbound'] as const;
export const ActiveReason = ['initial', 'garp', 'health', 'member-removed', 'recovered'] as const;
export type ActiveReason = (typeof ActiveReason)[number];

export interface ServiceFunctionView {
  id: string;
  tenant: string;
  name: string;
  ingressPortId: string;
  egressPortId: string;
  mode: FunctionMode;
  virtualIp: string | null;
  healthCheck: HealthCheck | null;
  /** As last decided from the agents' health checks (true until a check fails `fall` times). */
  healthy: boolean;
  createdAt: string;
  description: string;
  /** 1 at creation, +1 per event of the function (an update, a health change). */
  revision: number;
}

export interface FunctionGroupView {
  id: string;
  tenant: string;
  name: string;
  functionIds: string[];
  selection: GroupSelection;
  fallback: GroupFallback;
  /** active-standby: the member traffic goes to now (null: none usable); flow-hash: null. */
  activeFunctionId: string | null;
  createdAt: string;
  description: string;
  /** 1 at creation, +1 per event of the group (an update, an active-member change). */
  revision: number;
}

export interface FlowClassifierView extends FlowClassifier {
  tenant: string;
  name: string;
  createdAt: string;
  description: string;
  /** 1 at creation, +1 per update (of its name or description: its match is fixed). */
  revision: number;
}

export interface ChainView {
  id: string;
  tenant: string;
  name: string;
  routerId: string;
  /** The hops, in order. */
  groupIds: string[];
  classifierIds: string[];
  /** Return traffic passes the same members, hops in reverse order. */
  symmetric: boolean;
  createdAt: string;
  description: string;
  /** 1 at creation, +1 per update. */
  revision: number;
}
