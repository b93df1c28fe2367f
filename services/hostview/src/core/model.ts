/**
 * The inputs of the per-host derivation: one input node per context the
 * host views depend on, each folding its events into its own part of the
 * model and recording what changed in its own part of the Change (the
 * pattern of OVN's lib/inc-proc-eng):
 *
 *   inputs/ipam.ts      hypervisors, networks, subnets, routers; ports (the shared port-lifecycle fold)
 *   inputs/secgroup.ts  groups and rules, each port's groups and port security; also follows the IPAM
 *                       node's port moves (group → host counts, memberships a port starts or ends)
 *   inputs/nat.ts       floating-IP associations, routers with an external gateway
 *   inputs/bgp.ts       accepted appliance routes
 *   inputs/physical.ts  MACs and flood VTEPs gateway devices learned on their physical side (any context's
 *                       Physical* events: the BGP gateway's, the vtep controller's, IPAM's for host devices)
 *   inputs/chaining.ts  service functions, function groups, classifiers and chains; also follows the
 *                       IPAM node's port changes (an appliance's leg ports)
 *
 * The key families (families/) read the model and the Change to say which
 * keys a change can touch and what each key's value is.
 *
 * `applyEvent` mutates the model (it holds every port of the cloud; copying
 * it per event would dominate). The model is total: an event that refers to
 * something the model does not hold changes nothing, and one that re-creates
 * an existing id replaces it. Every rule is deterministic, so an
 * incrementally maintained model equals one built by replaying the same
 * events.
 */
import {
  BGP_CONTEXT,
  bgpEvents,
  type BgpEvent,
  CHAINING_CONTEXT,
  chainingEvents,
  IPAM_CONTEXT,
  ipamEvents,
  NAT_CONTEXT,
  natEvents,
  SECGROUP_CONTEXT,
  secgroupEvents,
  VTEP_CONTEXT,
  vtepEvents,
  type VtepEvent,
} from '@strata/contracts';
import type { StoredEvent } from '@strata/eventlog';
import { allEvents, eventTypes, follow } from '@strata/service-kit';
import { applyBgpEvent, BGP_INPUT_TYPES, emptyBgpChange, emptyBgpModel, isBgpInput, type BgpChange, type BgpInputEvent, type BgpModel } from './inputs/bgp.js';
import {
  applyChainingEvent,
  emptyChainingChange,
  emptyChainingModel,
  onLegPorts,
  type ChainingChange,
  type ChainingInputEvent,
  type ChainingModel,
} from './inputs/chaining.js';
import {
  applyPhysicalEvent,
  emptyPhysicalChange,
  emptyPhysicalModel,
  physicalEventName,
  type PhysicalChange,
  type PhysicalInputEvent,
  type PhysicalModel,
} from './inputs/physical.js';
import { networkVniBefore, onNetworkVnis, onTaggedEndpoints } from './inputs/zone-members.js';
import { applyIpamEvent, emptyIpamChange, emptyIpamModel, type IpamChange, type IpamInputEvent, type IpamModel } from './inputs/ipam.js';
import { applyNatEvent, emptyNatChange, emptyNatModel, type NatChange, type NatInputEvent, type NatModel } from './inputs/nat.js';
import {
  applySecgroupEvent,
  emptySecgroupChange,
  emptySecgroupModel,
  onPortMoves,
  type SecgroupChange,
  type SecgroupInputEvent,
  type SecgroupModel,
} from './inputs/secgroup.js';

export interface Model {
  /** Last stream sequence applied. */
  seq: number;
  ipam: IpamModel;
  secgroup: SecgroupModel;
  nat: NatModel;
  bgp: BgpModel;
  physical: PhysicalModel;
  chaining: ChainingModel;
}

export const emptyModel = (): Model => ({
  seq: 0,
  ipam: emptyIpamModel(),
  secgroup: emptySecgroupModel(),
  nat: emptyNatModel(),
  bgp: emptyBgpModel(),
  physical: emptyPhysicalModel(),
  chaining: emptyChainingModel(),
});

/** What one event changed, by input node. */
export interface Change {
  ipam: IpamChange;
  secgroup: SecgroupChange;
  nat: NatChange;
  bgp: BgpChange;
  physical: PhysicalChange;
  chaining: ChainingChange;
}

export const emptyChange = (): Change => ({
  ipam: emptyIpamChange(),
  secgroup: emptySecgroupChange(),
  nat: emptyNatChange(),
  bgp: emptyBgpChange(),
  physical: emptyPhysicalChange(),
  chaining: emptyChainingChange(),
});

const isEmptyPart = (part: object): boolean => Object.values(part).every((v: Set<unknown> | Map<unknown, unknown>) => v.size === 0);
export const isEmptyChange = (c: Change): boolean => isEmptyPart(c.ipam) && isEmptyPart(c.secgroup) && isEmptyPart(c.nat) && isEmptyPart(c.bgp) && isEmptyPart(c.physical) && isEmptyPart(c.chaining);

/** The slice of a decoded event the model reads: type and data, aggregate, tenant and position. */
export type Slice<E extends { type: string; data: unknown; aggregate: unknown; tenant: string; seq: number }> = {
  [K in E['type']]: { type: K; data: Extract<E, { type: K }>['data'] } & Pick<E, 'aggregate' | 'tenant' | 'seq'>;
}[E['type']];

/** An event of one of the input nodes' contexts, as the model reads it. */
export type ModelEvent = IpamInputEvent | SecgroupInputEvent | NatInputEvent | BgpInputEvent | BgpPhysicalEvent | VtepPhysicalEvent | ChainingInputEvent;

/** The BGP gateway's learned physical MACs and VTEPs (the physical input node). */
const BGP_PHYSICAL_TYPES = ['bgp.PhysicalMacLearned', 'bgp.PhysicalMacWithdrawn', 'bgp.PhysicalVtepLearned', 'bgp.PhysicalVtepWithdrawn'] as const;
type BgpPhysicalEvent = Slice<Extract<BgpEvent, { type: (typeof BGP_PHYSICAL_TYPES)[number] }>>;
/** The vtep controller's: what `ovsdb` devices report (the same schemas, the same input node). */
type VtepPhysicalEvent = Slice<VtepEvent>;

/** What the model is folded from: all of IPAM's, secgroup's, NAT's, chaining's and vtep's events, and BGP's route and physical observations. */
export const hostviewFollows = follow(
  allEvents(IPAM_CONTEXT, ipamEvents),
  allEvents(SECGROUP_CONTEXT, secgroupEvents),
  allEvents(NAT_CONTEXT, natEvents),
  eventTypes(BGP_CONTEXT, bgpEvents, [...BGP_INPUT_TYPES, ...BGP_PHYSICAL_TYPES]),
  allEvents(CHAINING_CONTEXT, chainingEvents),
  allEvents(VTEP_CONTEXT, vtepEvents),
);

/**
 * Decode a stored event of the domain stream for the model: an event of the
 * followed contexts this build cannot decode throws (the projection
 * quarantines it); undefined for any other event, which nothing here depends on.
 */
export function toModelEvent(stored: StoredEvent): ModelEvent | undefined {
  return hostviewFollows.decode(stored);
}

const inContext =
  <E extends ModelEvent>(prefix: string) =>
  (e: ModelEvent): e is E =>
    e.type.startsWith(prefix);
const isIpam = inContext<IpamInputEvent>('ipam.');
const isSecgroup = inContext<SecgroupInputEvent>('secgroup.');
const isNat = inContext<NatInputEvent>('nat.');
const isChaining = inContext<ChainingInputEvent>('chaining.');

/** Fold one event into the model through its context's input node; returns what changed. */
export function applyEvent(model: Model, event: ModelEvent): Change {
  model.seq = event.seq;
  const change = emptyChange();
  // Before IPAM's own: IPAM records what `host` gateway devices learned as Physical* events too.
  if (physicalEventName(event.type)) {
    applyPhysicalEvent(model, event as PhysicalInputEvent, change);
    onTaggedEndpoints(model, change);
  } else if (isIpam(event)) {
    const vniBefore = networkVniBefore(model, event);
    applyIpamEvent(model.ipam, event, change);
    onNetworkVnis(model, event, vniBefore, change);
    onPortMoves(model, change.ipam.ports, change);
    onLegPorts(model, change.ipam.ports.keys(), change);
  } else if (isSecgroup(event)) {
    applySecgroupEvent(model, event, change);
  } else if (isNat(event)) {
    applyNatEvent(model.nat, event, change);
  } else if (isChaining(event)) {
    applyChainingEvent(model, event, change);
  } else if (isBgpInput(event.type)) {
    applyBgpEvent(model, event as BgpInputEvent, change);
  } else {
    throw new Error(`hostview does not know event ${(event as { type: string }).type}`);
  }
  return change;
}
