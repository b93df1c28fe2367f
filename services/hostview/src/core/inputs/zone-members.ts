/**
 * Members in other availability zones (docs/architecture.md, "Security
 * groups across zones"): a MAC/IP another zone announces on a stretched
 * network (a physical endpoint of device `zone-<name>`) whose records carry
 * group tags is a member of every group here of the network's tenant with
 * one of those tags. Such a member is keyed by its endpoint id where a port
 * is keyed by its port id (`<H>.member.<g>.phys-zone-…`), so the member
 * family treats it like a port: one key per member on each host whose rules
 * name the group, its addresses the IPs of the records carrying the tag. A
 * tag means nothing outside its tenant: another tenant's network on the VNI
 * (or none) makes the endpoint a member of nothing.
 */
import { addTo } from '../indexes.js';
import type { Change, Model } from '../model.js';
import type { IpamInputEvent } from './ipam.js';
import { endpointTags, networksOfVni, physicalEndpoint, physicalEndpointsOf, vniOfEndpointId } from './physical.js';

/** The key of a tenant's tag in `SecgroupModel.tagGroups`. */
export const tagKey = (tenant: string, tag: number): string => `${tenant} ${tag}`;

/** Is this member id another zone's endpoint (not a port)? */
export const isRemoteMemberId = (id: string): boolean => id.startsWith('phys-');

/** Does a network of this tenant carry the VNI here? */
function tenantHasVni(model: Model, vni: number, tenant: string): boolean {
  return networksOfVni(model, vni).some((n) => model.ipam.networks.get(n)?.tenant === tenant);
}

/** The endpoint ids of the group's members in other zones. */
export function remoteMembersOf(model: Model, groupId: string): string[] {
  const g = model.secgroup.groups.get(groupId);
  if (!g || g.federationTag === null) return [];
  const out: string[] = [];
  for (const id of model.physical.tagged.get(String(g.federationTag)) ?? []) {
    const vni = vniOfEndpointId(id);
    if (vni !== undefined && tenantHasVni(model, vni, g.tenant)) out.push(id);
  }
  return out;
}

/** The addresses a remote member contributes to the group's sets (its records carrying the group's tag), or undefined when it is none. */
export function remoteMemberIps(model: Model, groupId: string, endpointId: string): string[] | undefined {
  const g = model.secgroup.groups.get(groupId);
  const vni = vniOfEndpointId(endpointId);
  if (!g || g.federationTag === null || vni === undefined || !tenantHasVni(model, vni, g.tenant)) return undefined;
  const ep = physicalEndpoint(model, vni, endpointId);
  const ips: string[] = [];
  for (const [ip, r] of ep?.records ?? []) if (ip !== '' && r.groupTags?.includes(g.federationTag)) ips.push(ip);
  return ips.length > 0 ? ips.sort() : undefined;
}

/** Every remote member of the group as a membership that can have changed (the group came, went or changed its tag). */
export function markRemoteMembers(model: Model, groupId: string, change: Change): void {
  for (const id of remoteMembersOf(model, groupId)) addTo(change.secgroup.members, groupId, id);
}

/** Which tenant carries which VNI: the (VNI, tenant) of the network an IPAM event creates, re-creates or deletes, as it is before the event. */
export function networkVniBefore(model: Model, event: IpamInputEvent): { vni: number; tenant: string } | undefined {
  if (event.type !== 'ipam.NetworkCreated' && event.type !== 'ipam.NetworkDeleted') return undefined;
  const n = model.ipam.networks.get(event.data.networkId);
  return n && { vni: n.vni, tenant: n.tenant };
}

/**
 * A network came, went or changed VNI: the tagged endpoints on its VNI before
 * and after become or stop being members of that tenant's tagged groups.
 */
export function onNetworkVnis(model: Model, event: IpamInputEvent, before: { vni: number; tenant: string } | undefined, change: Change): void {
  const after = event.type === 'ipam.NetworkCreated' ? { vni: event.data.vni, tenant: event.tenant } : undefined;
  for (const side of [before, after]) {
    if (!side) continue;
    for (const ep of physicalEndpointsOf(model, side.vni)) {
      for (const tag of endpointTags(ep)) for (const g of model.secgroup.tagGroups.get(tagKey(side.tenant, tag)) ?? []) addTo(change.secgroup.members, g, ep.id);
    }
  }
}

/** Endpoints whose tagged records changed: their memberships of the groups with those tags, in the VNI's tenant. */
export function onTaggedEndpoints(model: Model, change: Change): void {
  for (const [id, tags] of change.physical.tags) {
    const vni = vniOfEndpointId(id);
    if (vni === undefined) continue;
    for (const networkId of networksOfVni(model, vni)) {
      const tenant = model.ipam.networks.get(networkId)!.tenant;
      for (const tag of tags) for (const g of model.secgroup.tagGroups.get(tagKey(tenant, tag)) ?? []) addTo(change.secgroup.members, g, id);
    }
  }
}
