/**
 * Names of everything the agent creates: one place, so reading the kernel
 * back can tell Strata's objects from everyone else's.
 */
import { createHash } from 'node:crypto';

export const bridgeName = (vni: number): string => `sbr${vni}`;
export const vxlanName = (vni: number): string => `svx${vni}`;
/** Host end of a network's gateway veth (a port of the network's bridge). */
export const gatewayHostEnd = (vni: number): string => `sgw${vni}`;
/** Routing-domain end of the gateway veth: carries the anycast gateway MAC and addresses. */
export const gatewayDomainEnd = (vni: number): string => `qr${vni}`;

/** Host end of a routing domain's external link (floating IPs, PNAT): `sx` + the domain's short id (14 characters). */
export const extHostEnd = (domainId: string): string => `sx${shortId(domainId)}`;
/** Domain end of the external link, inside the domain's namespace (one per namespace, so a fixed name). */
export const EXT_DOMAIN_END = 'ext';
/** The external link's IPv6 ends (link-local: every link has the same two, each link is its own scope). */
export const TRANSIT6_HOST_END = 'fe80::1';
export const TRANSIT6_DOMAIN_END = 'fe80::2';
/** Strata's own link-local addresses: read back as Strata's (the kernel's own link-local ones are not). */
export const STRATA_LINK_LOCAL: readonly string[] = [TRANSIT6_HOST_END, TRANSIT6_DOMAIN_END];

/**
 * A software L2 gateway's VLAN device (core/l2gw.ts): `sgl` + 12 hex digits
 * of the SHA-256 of `<nic>.<vlan>` (15 characters, IFNAMSIZ's limit), so
 * one (NIC, VLAN) has one name however long the NIC's name is, and a binding
 * moved to another NIC or VLAN is another device.
 */
export const l2gwVlanName = (nic: string, vlan: number): string => `sgl${createHash('sha256').update(`${nic}.${vlan}`).digest('hex').slice(0, 12)}`;

/**
 * A router's link to a peering segment (core/peering.ts): the host end, a
 * port of the segment's bridge, is `spp` + the attachment's short id (one
 * per router and segment on the host: 12 hex digits of the SHA-256 of its
 * id, never a prefix of a time-ordered id); the domain end, in the router's
 * namespace, is `qp` + the segment's VNI (a router is on a segment once).
 */
export const peeringHostEnd = (attachmentId: string): string => `spp${createHash('sha256').update(attachmentId).digest('hex').slice(0, 12)}`;
export const peeringDomainEnd = (vni: number): string => `qp${vni}`;

/** Links in the host namespace that are Strata's (VNI ≤ 16777215: at most 8 digits, so ≤ 11 characters). */
export const STRATA_HOST_LINK = /^((sbr|svx|sgw)\d{1,8}|sx[0-9a-f]{12}|sgl[0-9a-f]{12}|spp[0-9a-f]{12})$/;

export const VXLAN_PORT = 4789;

/**
 * A network bridge's own MAC, fixed (locally administered, 02:53:42 "SB" + VNI).
 * Left to the kernel, a bridge takes the lowest MAC of its ports and changes it
 * when a port with a lower one is plugged; the address change flushes every
 * neighbour entry of the bridge, permanent ones included, and with them the
 * data that ARP/ND suppression answers from.
 */
export const bridgeMac = (vni: number): string =>
  `02:53:42:${[(vni >> 16) & 0xff, (vni >> 8) & 0xff, vni & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

/** `ip link set … alias`: marks a link as Strata's and says what it is for. */
export const linkAlias = (kind: 'bridge' | 'vxlan' | 'gateway' | 'external' | 'l2gw' | 'peering', networkId: string): string =>
  `strata:${kind}:${networkId.replace(/[^A-Za-z0-9._:-]/g, '_')}`.slice(0, 120);

/**
 * Namespace of a routing domain on this host: `<prefix>d<12 hex>`. Named
 * namespaces are global to the machine, so the prefix is per host in a lab
 * where several hypervisors share one kernel.
 */
export function domainNamespace(prefix: string, domainId: string): string {
  return `${prefix}d${shortId(domainId)}`;
}

/** 12 hex digits naming an object: the first 12 of a UUID-like id, else of its SHA-256. */
export function shortId(id: string): string {
  const hex = id.replaceAll('-', '').toLowerCase();
  return /^[0-9a-f]{12,}$/.test(hex) ? hex.slice(0, 12) : createHash('sha256').update(id).digest('hex').slice(0, 12);
}

// ---- nftables objects (tables `inet strata` and `bridge strata`) ----

/**
 * An id as part of an nft object name: the whole id, hex without dashes (a
 * UUID: 32 digits; nft names may have 255 characters), else 32 hex digits of
 * its SHA-256. Never a prefix: time-ordered ids (UUIDv7) share their first 12
 * digits when created in the same millisecond.
 */
export function nftId(id: string): string {
  const hex = id.replaceAll('-', '').toLowerCase();
  return /^[0-9a-f]{1,32}$/.test(hex) ? hex : createHash('sha256').update(id).digest('hex').slice(0, 32);
}

/** Member addresses of a security group that some local group's rules name as remote group. */
export const sgSetName = (groupId: string, v: 4 | 6): string => `sg_${nftId(groupId)}_v${v}`;
/** A security group's rules of one direction (ingress: the peer is the source; egress: the destination). */
export const sgChainName = (groupId: string, dir: 'in' | 'out'): string => `sg_${nftId(groupId)}_${dir}`;
/** A port's filter of one direction: jumps to its groups' chains, implicit allowances, drop. */
export const portChainName = (portId: string, dir: 'in' | 'out'): string => `port_${nftId(portId)}_${dir}`;
/** Bridge family: a port's anti-spoofing rules. */
export const spoofChainName = (portId: string): string => `spoof_${nftId(portId)}`;
/** Bridge family: stamps a port's id into the mark of packets leaving through it. */
export const outMarkChainName = (portId: string): string => `out_${nftId(portId)}`;
/** Named counter of a security-group rule. */
export const ruleCounterName = (ruleId: string): string => `r_${nftId(ruleId)}`;

/** Whether a namespace name is one of this agent's domain namespaces. */
export const isDomainNamespace = (prefix: string, name: string): boolean =>
  name.startsWith(prefix) && /^d[0-9a-f]{12}$/.test(name.slice(prefix.length));
