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

/** Links in the host namespace that are Strata's (VNI ≤ 16777215: at most 8 digits, so ≤ 11 characters). */
export const STRATA_HOST_LINK = /^(sbr|svx|sgw)\d{1,8}$/;

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
export const linkAlias = (kind: 'bridge' | 'vxlan' | 'gateway', networkId: string): string =>
  `strata:${kind}:${networkId.replace(/[^A-Za-z0-9._:-]/g, '_')}`.slice(0, 120);

/**
 * Namespace of a routing domain on this host: `<prefix>d<12 hex>`. Named
 * namespaces are global to the machine, so the prefix is per host in a lab
 * where several hypervisors share one kernel.
 */
export function domainNamespace(prefix: string, domainId: string): string {
  const hex = domainId.replaceAll('-', '').toLowerCase();
  const id = /^[0-9a-f]{12,}$/.test(hex) ? hex.slice(0, 12) : createHash('sha256').update(domainId).digest('hex').slice(0, 12);
  return `${prefix}d${id}`;
}

/** Whether a namespace name is one of this agent's domain namespaces. */
export const isDomainNamespace = (prefix: string, name: string): boolean =>
  name.startsWith(prefix) && /^d[0-9a-f]{12}$/.test(name.slice(prefix.length));
