/** Unicast paths in gobgpd's API shape, built and read; pure, so unit-tested without gobgpd. */
import { anyType, unicastFamily, type AnyMessage, type ApiPath } from './proto.js';

/**
 * Every path Strata originates carries this community (64512:7007, from the
 * private-AS range): the reconciler touches only paths that have it, never
 * routes an operator injected by hand. Harmless at the ToR (strip it there if
 * wanted).
 */
export const STRATA_COMMUNITY = 64512 * 65536 + 7007;
export const STRATA_COMMUNITY_TEXT = '64512:7007';

/**
 * An originated path. An IPv6 prefix (an appliance's /64) gets the IPv4 VTEP
 * as next hop too: gobgpd carries it in MP_REACH_NLRI as the IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) over the IPv4 fabric session, and reads it
 * back in dotted form, so the reconciler compares like with like.
 */
export function originatedPath(prefix: string, nextHop: string, withdraw = false): ApiPath {
  const slash = prefix.lastIndexOf('/');
  const [addr, len] = [prefix.slice(0, slash), prefix.slice(slash + 1)];
  return {
    family: unicastFamily(prefix),
    nlri: { '@type': anyType('IPAddressPrefix'), prefix: addr, prefix_len: Number(len) },
    pattrs: [
      { '@type': anyType('OriginAttribute'), origin: 0 },
      { '@type': anyType('NextHopAttribute'), next_hop: nextHop },
      { '@type': anyType('CommunitiesAttribute'), communities: [STRATA_COMMUNITY] },
    ],
    is_withdraw: withdraw,
  };
}

const attr = (p: ApiPath, name: string): AnyMessage | undefined => p.pattrs.find((a) => a['@type'] === anyType(name));

export interface ReadPath {
  prefix: string;
  nextHop: string;
  asPath: number[];
  communities: number[];
  /** The peer it came from; '' for paths added over the API. */
  peer: string;
  withdraw: boolean;
}

export function readPath(p: ApiPath): ReadPath | undefined {
  const nlri = p.nlri;
  if (!nlri || nlri['@type'] !== anyType('IPAddressPrefix')) return undefined;
  const nh = attr(p, 'NextHopAttribute')?.['next_hop'] ?? (attr(p, 'MpReachNLRIAttribute')?.['next_hops'] as string[] | undefined)?.[0] ?? '';
  const segments = (attr(p, 'AsPathAttribute')?.['segments'] ?? []) as { numbers: number[] }[];
  const peer = p.neighbor_ip && p.neighbor_ip !== '<nil>' ? p.neighbor_ip : '';
  return {
    prefix: `${String(nlri['prefix'])}/${String(nlri['prefix_len'])}`,
    nextHop: String(nh),
    asPath: segments.flatMap((s) => s.numbers),
    communities: (attr(p, 'CommunitiesAttribute')?.['communities'] ?? []) as number[],
    peer,
    withdraw: p.is_withdraw === true,
  };
}

/** Paths Strata put into the engine: added over the API (no peer) and tagged with its community. */
export const isOriginated = (p: ReadPath): boolean => p.peer === '' && p.communities.includes(STRATA_COMMUNITY);
