/**
 * How a hypervisor's IPv4 VTEP is written as the next hop of an IPv6 route
 * (an appliance's /64). The fabric sessions are IPv4, so the default is the
 * IPv4-mapped address `::ffff:a.b.c.d`: FRR 8.4 accepts and resolves it in
 * BGP, but zebra hands it to Linux as an IPv6 gateway, which the kernel
 * refuses (`show ipv6 route`: `B>r`, rejected), so the /64 never reaches the
 * ToR's forwarding table. With `BGP_IPV6_NEXTHOP_PREFIX` (an IPv6 /96 of
 * the underlay) the VTEP is embedded in it instead, e.g. 2001:db8:ffff::/96
 * and 198.18.0.11 → 2001:db8:ffff::c612:b: an ordinary IPv6 address the
 * hypervisor carries on its underlay interface, which the ToR reaches
 * without any mapping.
 */
import { embedIpv4, formatAddress, parseAddress, parsePrefix, type Prefix } from '@strata/netaddr';

export class Ipv6NextHops {
  private constructor(private readonly prefix: Prefix | undefined) {}

  /** Throws with a clear message unless `text` is an IPv6 /96 (or absent: IPv4-mapped). */
  static parse(text: string | undefined): Ipv6NextHops {
    if (text === undefined || text === '') return new Ipv6NextHops(undefined);
    const p = parsePrefix(text);
    if (p.version !== 6 || p.length !== 96) throw new Error(`BGP_IPV6_NEXTHOP_PREFIX must be an IPv6 /96 (the VTEP fills the last 32 bits), got ${text}`);
    return new Ipv6NextHops(p);
  }

  /** The IPv6 next hop standing for `vtep`. */
  encode(vtep: string): string {
    return this.prefix ? embedIpv4(this.prefix, vtep) : `::ffff:${vtep}`;
  }

  /** The VTEP an IPv6 next hop read back from gobgpd stands for (gobgpd prints IPv4-mapped ones dotted). */
  decode(nextHop: string): string {
    const a = parseAddress(nextHop);
    if (a.version === 4) return nextHop;
    if (this.prefix && a.value >> 32n === this.prefix.network >> 32n) return formatAddress({ version: 4, value: a.value & 0xffffffffn });
    if (a.value >> 32n === 0xffffn) return formatAddress({ version: 4, value: a.value & 0xffffffffn });
    return nextHop;
  }
}
