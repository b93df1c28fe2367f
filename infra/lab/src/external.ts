/**
 * The outside world of a lab: a border router on the underlay and a client
 * "on the internet" behind it.
 *
 *   <p>bdr   border: eth0 198.18.0.1/24 on the underlay switch, ext0 203.0.113.193/26
 *   <p>inet  internet client: eth0 203.0.113.200/26, default route via the border
 *
 * and IPv6 beside it (documentation space, only inside these namespaces):
 * the border's eth0 has its underlay IPv6 address (198.18.0.1 embedded in
 * the underlay's /96, 2001:db8:ffff::c612:1/96; the hypervisors have theirs,
 * lab.ts), ext0 2001:db8:ee::1/64, the client 2001:db8:ee::200/64; the
 * hypervisors' IPv6 default route points at the border too.
 *
 * The hypervisors' default route points at the border (what a ToR gives a
 * physical host). The border routes each hypervisor's H-IP to that
 * hypervisor, and each floating IP to the hypervisor that hosts it: static
 * /32 routes set by `routeFloatingIp`, standing in for the fabric's routing
 * until the BGP gateway advertises them.
 */
import { underlay6 } from './bgp-fabric.js';
import type { Netns } from './netns.js';
import { Netns as NetnsClass } from './netns.js';
import { sh } from './sh.js';

export const BORDER_UNDERLAY_IP = '198.18.0.1';
export const BORDER_PUBLIC_IP = '203.0.113.193';
export const INTERNET_CLIENT_IP = '203.0.113.200';
export const BORDER_PUBLIC_IP6 = '2001:db8:ee::1';
export const INTERNET_CLIENT_IP6 = '2001:db8:ee::200';

export interface ExternalSide {
  border: Netns;
  client: Netns;
}

export async function buildExternal(prefix: string, fabric: Netns, hypervisors: Array<{ ns: Netns }>): Promise<ExternalSide> {
  const border = await NetnsClass.create(`${prefix}bdr`);
  const client = await NetnsClass.create(`${prefix}inet`);
  await sh(['ip', '-n', fabric.name, 'link', 'add', 'bdr', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', border.name]);
  await fabric.ip(['link', 'set', 'bdr', 'master', 'ul0', 'up']);
  await border.ip(['addr', 'add', `${BORDER_UNDERLAY_IP}/24`, 'dev', 'eth0']);
  await border.ip(['link', 'set', 'eth0', 'up']);
  await sh(['ip', '-n', border.name, 'link', 'add', 'ext0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name]);
  await border.ip(['addr', 'add', `${BORDER_PUBLIC_IP}/26`, 'dev', 'ext0']);
  await border.ip(['link', 'set', 'ext0', 'up']);
  await border.ip(['-6', 'addr', 'add', `${underlay6(BORDER_UNDERLAY_IP)}/96`, 'dev', 'eth0', 'nodad']);
  await border.ip(['-6', 'addr', 'add', `${BORDER_PUBLIC_IP6}/64`, 'dev', 'ext0', 'nodad']);
  await border.exec(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  await client.ip(['addr', 'add', `${INTERNET_CLIENT_IP}/26`, 'dev', 'eth0']);
  await client.ip(['-6', 'addr', 'add', `${INTERNET_CLIENT_IP6}/64`, 'dev', 'eth0', 'nodad']);
  await client.ip(['link', 'set', 'eth0', 'up']);
  await client.ip(['route', 'add', 'default', 'via', BORDER_PUBLIC_IP]);
  await client.ip(['-6', 'route', 'add', 'default', 'via', BORDER_PUBLIC_IP6]);
  for (const h of hypervisors) {
    await h.ns.ip(['route', 'replace', 'default', 'via', BORDER_UNDERLAY_IP]);
    await h.ns.ip(['-6', 'route', 'replace', 'default', 'via', underlay6(BORDER_UNDERLAY_IP)]);
  }
  return { border, client };
}

/** The border's static route for a public /32 (a floating IP or an H-IP) to the hypervisor that has it. */
export async function routeAtBorder(ext: ExternalSide, address: string, vtepIp: string): Promise<void> {
  await ext.border.ip(['route', 'replace', `${address}/32`, 'via', vtepIp]);
}

export async function unrouteAtBorder(ext: ExternalSide, address: string): Promise<void> {
  await ext.border.ip(['route', 'del', `${address}/32`]).catch(() => undefined);
}
