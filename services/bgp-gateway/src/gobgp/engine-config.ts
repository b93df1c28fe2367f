/**
 * gobgpd's configuration as a pure function of the desired neighbours:
 * peer objects and the global routing policy. Kept apart from the client so
 * it is unit-tested without gobgpd.
 *
 * gobgpd's import and export policies are global (per-peer policies exist
 * only for route-server clients), so the policy matches peers by neighbour
 * sets. It is written as an allow-list of the configured FABRIC peers, never
 * as a deny-list of appliances:
 *
 *   import: only routes from fabric peers enter the global RIB; a route from
 *           any other peer (an appliance, one being removed, one not yet in a
 *           set) is rejected. Appliance routes stay in the peer's Adj-RIB-In
 *           (pre-policy), where the gateway reads them, applies Strata's
 *           import policy, and re-originates the accepted ones over the API
 *           (gobgpd would send a learned route to an EBGP ToR with itself as
 *           next hop; API paths keep theirs). Paths added over the API have
 *           no source address, so no neighbour set matches them: accepted.
 *   export: fabric peers get everything; appliances get nothing but the
 *           default route, and only if their peer group says so; an `evpn`
 *           switch gets the EVPN routes carrying its route targets
 *           (`<its AS>:<VNI>` of the networks bound on it, domain/evpn.ts),
 *           nothing else. Its own routes, like an appliance's, stay in its
 *           Adj-RIB-In (import rejects them), where the gateway reads them:
 *           gobgpd never passes one switch's MACs to another. A route
 *           reflector of the zone's federation gets the EVPN routes carrying
 *           the federation's route targets (`<federationAs>:<VNI>` of the
 *           federated networks, domain/federation.ts) and nothing else; what
 *           it reflects from other zones stays in its Adj-RIB-In like a
 *           switch's, where the gateway filters it (decide/federation.ts).
 *
 * Because the filter never depends on which appliances exist, no ordering of
 * policy and peer changes can open it (issue 12, defect 4: deleting an
 * appliance from a deny-set before deleting its peer let its routes in).
 *
 * gobgpd treats an EMPTY neighbour set as "matches every neighbour"
 * (NeighborCondition.Evaluate), so an empty set is given an address that
 * can never be a peer.
 */
import { createHash } from 'node:crypto';
import type { RouteTarget } from '../domain/evpn.js';
import type { EvpnNeighbour, Neighbour } from '../domain/neighbours.js';
import { isEvpnOnly } from '../domain/neighbours.js';
import { V4_UNICAST, V6_UNICAST, type Family } from './proto.js';
import { L2VPN_EVPN } from './evpn.js';

/**
 * Fabric and appliance sessions carry IPv4 and IPv6 unicast (over IPv4
 * transport): appliances may announce a /64, the fabric learns it. Sessions
 * with `evpn` switches and route reflectors carry only l2vpn-evpn.
 */
const familiesOf = (n: Neighbour): Family[] => (isEvpnOnly(n) ? [L2VPN_EVPN] : [V4_UNICAST, V6_UNICAST]);
export const REFLECTOR_SET = 'strata-reflectors';
const FEDERATION_RT_SET = 'strata-federation-rt';

export const FABRIC_SET = 'strata-fabric';
/** Every possible peer address: whatever is not a fabric peer. */
export const ANY_PEER_SET = 'strata-any-peer';
export const DEFAULT_TO_SET = 'strata-appliances-default';
const DEFAULT_ROUTE_SET = 'strata-default-route';
const NEVER_A_PEER = '255.255.255.255/32';
/** Seconds between connection attempts: short, so sessions return quickly after either side restarts. */
export const CONNECT_RETRY_S = 5;
/**
 * TTL of appliance sessions: an appliance is a VM behind its hypervisor and
 * tenant router, several routed hops from the gateway on the underlay, so
 * the sessions are EBGP multihop (appliances configure the same).
 */
export const APPLIANCE_MULTIHOP_TTL = 8;

/**
 * Graceful restart toward the route reflectors (RFC 4724 + long-lived, RFC
 * 9494; docs/architecture.md "Failure domains"): when this zone's gobgpd
 * dies, a reflector keeps its EVPN routes as stale for GR_RESTART_S, then
 * marks them LLGR_STALE (65535:6) and keeps reflecting them for
 * LLGR_STALE_S, so the other zones keep forwarding to this zone's
 * hypervisors; a zone away for longer is forgotten. The same capability
 * lets this gobgpd receive the other zones' stale routes (a reflector sends
 * LLGR_STALE routes only to peers that advertise LLGR). With the N bit
 * (RFC 8538, `notification_enabled`) a session ended by a notification is
 * graceful restart too: a gobgpd stopped with SIGTERM sends the reflectors
 * a Cease (peer de-configured), and a planned stop of the zone's control
 * plane must not withdraw its hypervisors from the other zones any more
 * than a crash does. Only a Cease "hard reset" ends it without.
 */
export const REFLECTOR_GR_RESTART_S = 5;
/** 24 h: a zone's control plane may be away for a day before the others withdraw its routes. */
export const REFLECTOR_LLGR_STALE_S = 86_400;

/** Hard cap in gobgpd per appliance (the session is torn down beyond it), well above Strata's own limit, to bound memory. */
export const hardPrefixCap = (maxPrefixes: number): number => maxPrefixes * 4 + 16;

/** Marker in the peer's description: a peer whose marker differs is re-created. Contains a hash of the password, never the password. */
export function peerSignature(n: Neighbour, password: string): string {
  const shape = {
    kind: n.kind,
    remoteAs: n.remoteAs,
    cap: n.kind === 'appliance' ? hardPrefixCap(n.maxPrefixes) : 0,
    connectRetry: CONNECT_RETRY_S,
    multihop: n.kind === 'appliance' ? APPLIANCE_MULTIHOP_TTL : 0,
    families: familiesOf(n).map((f) => f.afi),
    gracefulRestart: n.kind === 'reflector' ? [REFLECTOR_GR_RESTART_S, REFLECTOR_LLGR_STALE_S, 'notification'] : null,
  };
  const h = createHash('sha256').update(JSON.stringify(shape)).update('\0').update(password).digest('hex');
  return `strata:${n.kind}:${h.slice(0, 24)}`;
}

export function peerConfig(n: Neighbour, password: string): object {
  const afiSafis = familiesOf(n).map((family) => ({
    config: { family, enabled: true },
    ...(n.kind === 'appliance' ? { prefix_limits: { family, max_prefixes: hardPrefixCap(n.maxPrefixes), shutdown_threshold_pct: 0 } } : {}),
    ...(n.kind === 'reflector'
      ? { mp_graceful_restart: { config: { enabled: true } }, long_lived_graceful_restart: { config: { enabled: true, restart_time: REFLECTOR_LLGR_STALE_S } } }
      : {}),
  }));
  return {
    // A reflector session is IBGP in the federation's AS: gobgpd speaks it as its local AS on that session.
    conf: { neighbor_address: n.address, peer_asn: n.remoteAs, ...(n.kind === 'reflector' ? { local_asn: n.remoteAs } : {}), auth_password: password, description: peerSignature(n, password) },
    afi_safis: afiSafis,
    timers: { config: { connect_retry: CONNECT_RETRY_S, hold_time: 90, keepalive_interval: 30 } },
    ...(n.kind === 'appliance' ? { ebgp_multihop: { enabled: true, multihop_ttl: APPLIANCE_MULTIHOP_TTL } } : {}),
    ...(n.kind === 'reflector' ? { graceful_restart: { enabled: true, restart_time: REFLECTOR_GR_RESTART_S, longlived_enabled: true, notification_enabled: true } } : {}),
  };
}

/** A route target as gobgpd writes it for matching: `asn:value`, a four-octet AS in asdot (`high.low:value`). */
const routeTargetPattern = (rt: RouteTarget): string => (rt.asn <= 0xffff ? `${rt.asn}:${rt.value}` : `${Math.floor(rt.asn / 65536)}\\.${rt.asn % 65536}:${rt.value}`);

const neighbourSet = (name: string, addresses: string[]) => ({
  defined_type: 'NEIGHBOR',
  name,
  list: addresses.length > 0 ? addresses.sort().map((a) => (a.includes(':') ? `${a}/128` : `${a}/32`)) : [NEVER_A_PEER],
});

/** The whole routing policy: defined sets, policies and the global assignments (GobgpClient.setPolicies). */
export function policiesFor(
  neighbours: Iterable<Neighbour>,
  evpnTargets: ReadonlyMap<string, readonly RouteTarget[]> = new Map(),
  federationTargets: readonly RouteTarget[] = [],
): { defined_sets: object[]; policies: object[]; assignments: object[] } {
  const all = [...neighbours];
  // The reflectors' statement only while something is federated (an empty RT set would match everything).
  const reflectors = federationTargets.length > 0 ? all.filter((n) => n.kind === 'reflector').map((n) => n.address) : [];
  // One statement per switch with bindings: its address and its route targets (an empty set would match everything).
  const switches = all
    .filter((n): n is EvpnNeighbour => n.kind === 'evpn' && (evpnTargets.get(n.deviceId)?.length ?? 0) > 0)
    .sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1))
    .map((n, i) => ({ n, set: `strata-evpn-${i}`, rts: `strata-evpn-rt-${i}`, targets: evpnTargets.get(n.deviceId)! }));
  const fabric = all.filter((n) => n.kind === 'fabric').map((n) => n.address);
  const sendDefault = all.filter((n) => n.kind === 'appliance' && n.sendDefault).map((n) => n.address);
  const match = (set: string) => ({ type: 'ANY', name: set });
  return {
    defined_sets: [
      neighbourSet(FABRIC_SET, fabric),
      neighbourSet(DEFAULT_TO_SET, sendDefault),
      { defined_type: 'NEIGHBOR', name: ANY_PEER_SET, list: ['0.0.0.0/0', '::/0'] },
      { defined_type: 'PREFIX', name: DEFAULT_ROUTE_SET, prefixes: [{ ip_prefix: '0.0.0.0/0', mask_length_min: 0, mask_length_max: 0 }] },
      ...switches.flatMap((s) => [
        neighbourSet(s.set, [s.n.address]),
        { defined_type: 'EXT_COMMUNITY', name: s.rts, list: s.targets.map((rt) => `rt:^${routeTargetPattern(rt)}$`) },
      ]),
      ...(reflectors.length > 0
        ? [neighbourSet(REFLECTOR_SET, reflectors), { defined_type: 'EXT_COMMUNITY', name: FEDERATION_RT_SET, list: federationTargets.map((rt) => `rt:^${routeTargetPattern(rt)}$`) }]
        : []),
    ],
    policies: [
      {
        name: 'strata-import',
        statements: [
          { name: 'strata-import-fabric', conditions: { neighbor_set: match(FABRIC_SET) }, actions: { route_action: 'ACCEPT' } },
          { name: 'strata-import-others', conditions: { neighbor_set: match(ANY_PEER_SET) }, actions: { route_action: 'REJECT' } },
        ],
      },
      {
        name: 'strata-export',
        statements: [
          { name: 'strata-export-fabric', conditions: { neighbor_set: match(FABRIC_SET) }, actions: { route_action: 'ACCEPT' } },
          { name: 'strata-export-default', conditions: { neighbor_set: match(DEFAULT_TO_SET), prefix_set: match(DEFAULT_ROUTE_SET) }, actions: { route_action: 'ACCEPT' } },
          ...switches.map((s) => ({ name: `${s.set}-export`, conditions: { neighbor_set: match(s.set), ext_community_set: match(s.rts) }, actions: { route_action: 'ACCEPT' } })),
          ...(reflectors.length > 0
            ? [{ name: 'strata-export-federation', conditions: { neighbor_set: match(REFLECTOR_SET), ext_community_set: match(FEDERATION_RT_SET) }, actions: { route_action: 'ACCEPT' } }]
            : []),
          { name: 'strata-export-others', conditions: { neighbor_set: match(ANY_PEER_SET) }, actions: { route_action: 'REJECT' } },
        ],
      },
    ],
    assignments: [
      // Default ACCEPT only reaches paths with no source address: the ones Strata adds over the API.
      { name: 'global', direction: 'IMPORT', policies: [{ name: 'strata-import' }], default_action: 'ACCEPT' },
      { name: 'global', direction: 'EXPORT', policies: [{ name: 'strata-export' }], default_action: 'ACCEPT' },
    ],
  };
}
