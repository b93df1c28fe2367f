/**
 * Peering segments (docs/architecture.md, "VPC peering (issue 20)"). The
 * owner creates a segment, grants tenants (its invitation) and deletes it;
 * a router's tenant attaches its own router (its agreement), on a segment it
 * owns or was granted. Every event is on the cloud aggregate, so an
 * attachment is decided against one version of the segment, its grants and
 * every other attachment.
 */
import { AlreadyExistsError, ExhaustedError, IllegalStateError, NotFoundError, PermissionDeniedError, ValidationError } from '@strata/errors';
import type { IpamCommand } from '@strata/contracts';
import { contains, formatAddress, lastAddress, overlaps, parseAddress, parsePrefix, type Prefix } from '@strata/netaddr';
import { canSee, createdId, owningTenant } from '@strata/service-kit';
import { generatedMac, nextFreeVni } from '../allocate.js';
import { peeringOf, type IpamState, type PeeringAttachmentEntry, type PeeringSegmentEntry } from '../state.js';
import { routerPrefixes } from '../peering-prefixes.js';
import { cloudAppend } from './shared.js';
import type { Caller, CommandContext, Decision } from './types.js';

export function createPeeringSegment(state: IpamState, cmd: IpamCommand<'peeringsegment.create'>, ctx: CommandContext): Decision {
  const tenant = owningTenant(ctx.caller, cmd.tenant);
  const id = createdId(ctx.caller, 'ipam', 'peering-segment');
  const existing = peeringOf(state).segments[id];
  if (existing) {
    if (existing.tenant === tenant) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`peering segment ${id} already exists`);
  }
  const { policy } = ctx;
  // One VNI space for networks and segments: a segment is a VXLAN segment like any network.
  const vni = nextFreeVni(state.cloud.vnis, policy.vniMin, policy.vniMax, policy.vniMin);
  if (vni === null) throw new ExhaustedError(`no free VNI: all ${policy.vniMax - policy.vniMin + 1} VNIs of ${policy.vniMin}-${policy.vniMax} are in use`);
  return cloudAppend(state, tenant, id, {
    type: 'ipam.PeeringSegmentCreated',
    data: { segmentId: id, name: cmd.name, ...(cmd.description ? { description: cmd.description } : {}), cidr: cmd.cidr, vni },
  });
}

export function deletePeeringSegment(state: IpamState, cmd: IpamCommand<'peeringsegment.delete'>, ctx: CommandContext): Decision {
  const seg = ownedSegment(state, ctx.caller, cmd.id, 'delete');
  const attached = attachmentsOf(state, seg.id).length;
  if (attached > 0) throw new IllegalStateError(`peering segment ${seg.id} still has ${attached} router(s) attached; detach them first`, { attachments: attached });
  return cloudAppend(state, seg.tenant, seg.id, { type: 'ipam.PeeringSegmentDeleted', data: { segmentId: seg.id, vni: seg.vni } });
}

export function grantPeeringSegment(state: IpamState, cmd: IpamCommand<'peeringsegment.grant'>, ctx: CommandContext): Decision {
  const seg = ownedSegment(state, ctx.caller, cmd.id, 'grant');
  if (cmd.tenant === seg.tenant) throw new ValidationError(`tenant ${cmd.tenant} owns peering segment ${seg.id}: its routers attach without a grant`, { field: 'tenant' });
  if (seg.grants.includes(cmd.tenant)) return { kind: 'done', resourceId: seg.id };
  return cloudAppend(state, seg.tenant, seg.id, { type: 'ipam.PeeringSegmentGranted', data: { segmentId: seg.id, grantee: cmd.tenant } });
}

/** A revoked tenant's routers are detached first (by it or the owner): revoking never pulls routes from under a router silently. */
export function revokePeeringSegment(state: IpamState, cmd: IpamCommand<'peeringsegment.revoke'>, ctx: CommandContext): Decision {
  const seg = ownedSegment(state, ctx.caller, cmd.id, 'revoke');
  if (!seg.grants.includes(cmd.tenant)) return { kind: 'done', resourceId: seg.id };
  const attached = attachmentsOf(state, seg.id).filter((a) => a.tenant === cmd.tenant).length;
  if (attached > 0) {
    throw new IllegalStateError(`tenant ${cmd.tenant} still has ${attached} router(s) on peering segment ${seg.id}; detach them first`, { field: 'tenant', attachments: attached });
  }
  return cloudAppend(state, seg.tenant, seg.id, { type: 'ipam.PeeringSegmentRevoked', data: { segmentId: seg.id, grantee: cmd.tenant } });
}

export function attachPeering(state: IpamState, cmd: IpamCommand<'peeringsegment.attach'>, ctx: CommandContext): Decision {
  const { caller } = ctx;
  const id = createdId(caller, 'ipam', 'peering-attachment');
  const existing = peeringOf(state).attachments[id];
  if (existing) {
    if (canSee(caller, existing.tenant)) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`peering attachment ${id} already exists`);
  }
  const seg = segmentFor(state, caller, cmd.segmentId);
  const router = state.routers[cmd.routerId];
  // Another tenant's router is "not found", as everywhere: attaching is its tenant's agreement, never another's.
  if (!router || !canSee(caller, router.tenant)) throw new NotFoundError('router', cmd.routerId);
  if (router.tenant !== seg.tenant && !seg.grants.includes(router.tenant)) {
    throw new PermissionDeniedError(`tenant ${router.tenant} is not granted peering segment ${seg.id}: its owner grants it first`, { field: 'routerId' });
  }
  const onSegment = attachmentsOf(state, seg.id);
  const again = onSegment.find((a) => a.routerId === router.id);
  if (again) throw new AlreadyExistsError(`router ${router.id} is already attached to peering segment ${seg.id} (attachment ${again.id})`, { field: 'routerId' });
  requireUnambiguous(state, caller, seg, router.id, onSegment);
  const ip = transitAddress(seg, onSegment, cmd.ip);
  return cloudAppend(state, router.tenant, id, {
    type: 'ipam.PeeringAttached',
    data: { attachmentId: id, segmentId: seg.id, vni: seg.vni, routerId: router.id, ip, mac: freeMac(onSegment, ctx.policy.macPrefix, id) },
  });
}

/** The router's tenant, the segment's owner (it may put any router off its segment) or the admin. */
export function detachPeering(state: IpamState, cmd: IpamCommand<'peeringsegment.detach'>, ctx: CommandContext): Decision {
  const a = peeringOf(state).attachments[cmd.id];
  const seg = a && peeringOf(state).segments[a.segmentId];
  if (!a || !(canSee(ctx.caller, a.tenant) || (seg && canSee(ctx.caller, seg.tenant)))) throw new NotFoundError('peering attachment', cmd.id);
  const vni = seg?.vni ?? 0;
  return cloudAppend(state, a.tenant, a.id, { type: 'ipam.PeeringDetached', data: { attachmentId: a.id, segmentId: a.segmentId, vni, routerId: a.routerId, ip: a.ip, mac: a.mac } });
}

export const attachmentsOf = (state: IpamState, segmentId: string): PeeringAttachmentEntry[] =>
  Object.values(peeringOf(state).attachments).filter((a) => a.segmentId === segmentId);

export const attachmentsOfRouter = (state: IpamState, routerId: string): PeeringAttachmentEntry[] =>
  Object.values(peeringOf(state).attachments).filter((a) => a.routerId === routerId);

/** Who may see a segment: its owner, a tenant it granted, the admin. Anyone else is told it is not found. */
export function segmentFor(state: IpamState, caller: Caller, id: string): PeeringSegmentEntry {
  const seg = peeringOf(state).segments[id];
  if (!seg || !(canSee(caller, seg.tenant) || seg.grants.includes(caller.tenant))) throw new NotFoundError('peering segment', id);
  return seg;
}

/** A segment only its owner (or the admin) changes; a granted tenant is told so, anyone else that it is not found. */
function ownedSegment(state: IpamState, caller: Caller, id: string, action: string): PeeringSegmentEntry {
  const seg = segmentFor(state, caller, id);
  if (!canSee(caller, seg.tenant)) throw new PermissionDeniedError(`only the owner of peering segment ${seg.id} may ${action} it`);
  return seg;
}

/**
 * Peers must be unambiguous (AWS refuses peering overlapping CIDRs): the
 * transit subnet overlaps neither the router's subnets nor another segment
 * it is on, and no prefix of a router already on the segment overlaps the
 * router's subnets or a prefix it already reaches over another segment. A
 * peer of a tenant the caller cannot see is named by its transit address only.
 */
function requireUnambiguous(state: IpamState, caller: Caller, seg: PeeringSegmentEntry, routerId: string, onSegment: PeeringAttachmentEntry[]): void {
  const transit = parsePrefix(seg.cidr);
  const own = routerPrefixes(state, routerId);
  const clash = own.find((p) => overlaps(parsePrefix(p), transit));
  if (clash) throw new ValidationError(`transit subnet ${seg.cidr} of peering segment ${seg.id} overlaps subnet ${clash} of router ${routerId}`, { field: 'segmentId' });
  const elsewhere = attachmentsOfRouter(state, routerId).flatMap((a) => peeringOf(state).segments[a.segmentId] ?? []);
  const sameTransit = elsewhere.find((s) => overlaps(parsePrefix(s.cidr), transit));
  if (sameTransit) {
    throw new ValidationError(`transit subnet ${seg.cidr} overlaps transit subnet ${sameTransit.cidr} of peering segment ${sameTransit.id}, which router ${routerId} is already on`, { field: 'segmentId' });
  }
  const reached = elsewhere.flatMap((s) => attachmentsOf(state, s.id).filter((a) => a.routerId !== routerId).flatMap((a) => routerPrefixes(state, a.routerId)));
  const mine = [...own.map((p) => ({ p, what: `subnet ${p} of router ${routerId}` })), ...reached.map((p) => ({ p, what: `${p}, which router ${routerId} already reaches over another peering segment` }))];
  for (const peer of onSegment) {
    for (const prefix of routerPrefixes(state, peer.routerId)) {
      const hit = mine.find((m) => overlaps(parsePrefix(m.p), parsePrefix(prefix)));
      if (!hit) continue;
      const who = canSee(caller, peer.tenant) ? `router ${peer.routerId}` : `the router at ${peer.ip}`;
      throw new ValidationError(`prefix ${prefix} of ${who} on peering segment ${seg.id} overlaps ${hit.what}: peers must not overlap`, { field: 'routerId' });
    }
  }
}

/** The requested address (inside the transit subnet, not its network or broadcast address, free), else the lowest free one. */
function transitAddress(seg: PeeringSegmentEntry, onSegment: PeeringAttachmentEntry[], requested: string | undefined): string {
  const prefix = parsePrefix(seg.cidr);
  const used = new Map(onSegment.map((a) => [a.ip, a]));
  if (requested !== undefined) {
    const a = parseAddress(requested);
    if (!contains(prefix, a) || a.value === prefix.network || a.value === lastAddress(prefix)) {
      throw new ValidationError(`address ${requested} is not a host address of transit subnet ${seg.cidr}`, { field: 'ip' });
    }
    const holder = used.get(requested);
    if (holder) throw new AlreadyExistsError(`address ${requested} on peering segment ${seg.id} is already attachment ${holder.id}'s`, { field: 'ip' });
    return requested;
  }
  const free = firstFree(prefix, used);
  if (free === null) throw new ExhaustedError(`transit subnet ${seg.cidr} of peering segment ${seg.id} has no free address`);
  return free;
}

function firstFree(prefix: Prefix, used: Map<string, unknown>): string | null {
  for (let v = prefix.network + 1n; v < lastAddress(prefix); v++) {
    const ip = formatAddress({ version: 4, value: v });
    if (!used.has(ip)) return ip;
  }
  return null;
}

function freeMac(onSegment: PeeringAttachmentEntry[], prefix: string, attachmentId: string): string {
  const taken = new Set(onSegment.map((a) => a.mac));
  for (let attempt = 0; ; attempt++) {
    const mac = generatedMac(prefix, attachmentId, attempt);
    if (!taken.has(mac)) return mac;
  }
}
