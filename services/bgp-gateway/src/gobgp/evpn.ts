/**
 * EVPN paths (RFC 7432 route types 2 and 3 with the VXLAN encapsulation of
 * RFC 8365) in gobgpd's API shape, built and read; pure, so unit-tested
 * without gobgpd.
 *
 *   type 2 (MAC/IP advertisement): RD, ESI, ethernet tag, MAC, IP (optional),
 *          label = the VNI
 *   type 3 (inclusive multicast ethernet tag, IMET): RD, ethernet tag,
 *          originator = the VTEP; its PMSI tunnel attribute says "ingress
 *          replication to this VTEP, VNI as label"
 *
 * Both carry the route target that the switch imports for the VNI, the
 * encapsulation extended community (tunnel type 8, VXLAN), Strata's
 * community (the reconciler touches only its own paths) and, as next hop,
 * the hypervisor's VTEP (a third-party next hop: traffic goes hypervisor ↔
 * switch, never through the gateway).
 *
 * gobgpd 3.10 crashes (nil pointer) on a type-2 AddPath without an `esi`:
 * every type 2 carries ESI type 0 with 9 zero bytes (single-homed).
 */
import { anyType, type AnyMessage, type ApiPath, type Family } from './proto.js';
import type { EvpnRoute, LargeCommunity, RouteTarget } from '../domain/evpn.js';
import { STRATA_COMMUNITY } from './paths.js';

export const L2VPN_EVPN: Family = { afi: 'AFI_L2VPN', safi: 'SAFI_EVPN' };

/** RFC 8365 tunnel type of the BGP encapsulation extended community. */
const TUNNEL_VXLAN = 8;
/** PMSI tunnel type 6: ingress replication. */
const PMSI_INGRESS_REPLICATION = 6;
/** Route-target sub-type of a two-octet-AS-specific extended community. */
const SUBTYPE_ROUTE_TARGET = 2;
const ZERO_ESI = Buffer.alloc(9).toString('base64');

function rdMessage(rd: string): AnyMessage {
  const colon = rd.lastIndexOf(':');
  const [admin, assigned] = [rd.slice(0, colon), Number(rd.slice(colon + 1))];
  if (admin.includes('.')) return { '@type': anyType('RouteDistinguisherIPAddress'), admin, assigned };
  const asn = Number(admin);
  return asn <= 0xffff ? { '@type': anyType('RouteDistinguisherTwoOctetASN'), admin: asn, assigned } : { '@type': anyType('RouteDistinguisherFourOctetASN'), admin: asn, assigned };
}

function rdText(m: AnyMessage | undefined | null): string {
  if (!m) return '';
  return `${String(m['admin'])}:${String(m['assigned'])}`;
}

/** A path to add (or withdraw) in gobgpd's global RIB. */
export function evpnPath(r: EvpnRoute, routeTargets: readonly RouteTarget[], withdraw = false, communities: readonly number[] = [], large: readonly LargeCommunity[] = []): ApiPath {
  const nlri: AnyMessage =
    r.type === 'mac-ip'
      ? { '@type': anyType('EVPNMACIPAdvertisementRoute'), rd: rdMessage(r.rd), esi: { type: 0, value: ZERO_ESI }, ethernet_tag: 0, mac_address: r.mac, ip_address: r.ip, labels: [r.vni] }
      : { '@type': anyType('EVPNInclusiveMulticastEthernetTagRoute'), rd: rdMessage(r.rd), ethernet_tag: 0, ip_address: r.vtep };
  const extended: AnyMessage[] = [
    ...routeTargets.map(routeTargetMessage),
    { '@type': anyType('EncapExtended'), tunnel_type: TUNNEL_VXLAN },
  ];
  const pattrs: AnyMessage[] = [
    { '@type': anyType('OriginAttribute'), origin: 0 },
    { '@type': anyType('NextHopAttribute'), next_hop: r.nextHop },
    { '@type': anyType('CommunitiesAttribute'), communities: [STRATA_COMMUNITY, ...communities] },
    { '@type': anyType('ExtendedCommunitiesAttribute'), communities: extended },
  ];
  if (large.length > 0) {
    pattrs.push({ '@type': anyType('LargeCommunitiesAttribute'), communities: large.map((c) => ({ global_admin: c.global, local_data1: c.local1, local_data2: c.local2 })) });
  }
  if (r.type === 'imet') {
    pattrs.push({ '@type': anyType('PmsiTunnelAttribute'), flags: 0, type: PMSI_INGRESS_REPLICATION, label: r.vni, id: ipv4Bytes(r.vtep) });
  }
  return { family: L2VPN_EVPN, nlri, pattrs, is_withdraw: withdraw };
}

/**
 * A two-octet-AS route target (`<AS>:<4-byte value>`) while the AS fits, else
 * a four-octet-AS one, whose value has two octets: the VNI modulo 2^16 (what
 * the switch must then import; FRR's auto-derived RT covers two-octet ASes).
 */
function routeTargetMessage(rt: RouteTarget): AnyMessage {
  return rt.asn <= 0xffff
    ? { '@type': anyType('TwoOctetAsSpecificExtended'), is_transitive: true, sub_type: SUBTYPE_ROUTE_TARGET, asn: rt.asn, local_admin: rt.value }
    : { '@type': anyType('FourOctetAsSpecificExtended'), is_transitive: true, sub_type: SUBTYPE_ROUTE_TARGET, asn: rt.asn, local_admin: rt.value & 0xffff };
}

function ipv4Bytes(ip: string): string {
  return Buffer.from(ip.split('.').map(Number)).toString('base64');
}

/** An EVPN path as read from gobgpd (its RIB or a peer's Adj-RIB-In). */
export interface ReadEvpnPath {
  route: EvpnRoute;
  routeTargets: RouteTarget[];
  communities: number[];
  largeCommunities: LargeCommunity[];
  asPath: number[];
  /** The peer it came from; '' for paths added over the API. */
  peer: string;
  withdraw: boolean;
}

const attr = (p: ApiPath, name: string): AnyMessage | undefined => p.pattrs.find((a) => a['@type'] === anyType(name));

/**
 * Type 2 and 3 routes; undefined for anything else (other route types, other
 * families). The VNI of a type 2 is its first label; of a type 3, its PMSI
 * tunnel label (RFC 8365 §5.1.3), else its ethernet tag.
 */
export function readEvpnPath(p: ApiPath): ReadEvpnPath | undefined {
  const nlri = p.nlri;
  if (!nlri) return undefined;
  const nextHop = String(attr(p, 'NextHopAttribute')?.['next_hop'] ?? (attr(p, 'MpReachNLRIAttribute')?.['next_hops'] as string[] | undefined)?.[0] ?? '');
  let route: EvpnRoute;
  if (nlri['@type'] === anyType('EVPNMACIPAdvertisementRoute')) {
    const labels = (nlri['labels'] ?? []) as number[];
    const ip = String(nlri['ip_address'] ?? '');
    route = { type: 'mac-ip', rd: rdText(nlri['rd'] as AnyMessage), vni: Number(labels[0] ?? 0), mac: String(nlri['mac_address']).toLowerCase(), ip: ip === '<nil>' ? '' : ip, nextHop };
  } else if (nlri['@type'] === anyType('EVPNInclusiveMulticastEthernetTagRoute')) {
    const pmsi = attr(p, 'PmsiTunnelAttribute');
    const vni = pmsi ? Number(pmsi['label']) : Number(nlri['ethernet_tag'] ?? 0);
    route = { type: 'imet', rd: rdText(nlri['rd'] as AnyMessage), vni, vtep: String(nlri['ip_address']), nextHop };
  } else return undefined;
  const extended = (attr(p, 'ExtendedCommunitiesAttribute')?.['communities'] ?? []) as AnyMessage[];
  const routeTargets = extended
    .filter((c) => (c['@type'] === anyType('TwoOctetAsSpecificExtended') || c['@type'] === anyType('FourOctetAsSpecificExtended')) && Number(c['sub_type']) === SUBTYPE_ROUTE_TARGET)
    .map((c) => ({ asn: Number(c['asn']), value: Number(c['local_admin']) }));
  return {
    route,
    routeTargets,
    communities: (attr(p, 'CommunitiesAttribute')?.['communities'] ?? []) as number[],
    largeCommunities: ((attr(p, 'LargeCommunitiesAttribute')?.['communities'] ?? []) as AnyMessage[]).map((c) => ({
      global: Number(c['global_admin']),
      local1: Number(c['local_data1']),
      local2: Number(c['local_data2']),
    })),
    asPath: ((attr(p, 'AsPathAttribute')?.['segments'] ?? []) as { numbers: number[] }[]).flatMap((s) => s.numbers),
    peer: p.neighbor_ip && p.neighbor_ip !== '<nil>' ? p.neighbor_ip : '',
    withdraw: p.is_withdraw === true,
  };
}
