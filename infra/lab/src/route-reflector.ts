/**
 * The route reflector of a federation of availability zones (docs/
 * architecture.md, "Availability zones"): FRR in its own namespace on the
 * underlay, IBGP in the federation's AS, `l2vpn evpn` only, every zone's
 * gobgpd a route-reflector client with TCP-MD5 (explicit neighbours: the
 * sessions are configured from both sides). It holds no VNI (no
 * `advertise-all-vni`): it reflects every EVPN route to every other client
 * with the next hop untouched (the sending zone's hypervisor), and the
 * receiving zone filters.
 */
import { Frr } from './bgp-fabric.js';
import { evpnTable, type EvpnTableRoute } from './evpn-switch.js';

export interface ReflectorClient {
  address: string;
  /** The TCP-MD5 secret of this session; '' for none. */
  password: string;
}

export class RouteReflector {
  private constructor(readonly frr: Frr) {}

  /** Start FRR in namespace `ns` (which has `address` on the underlay) with `clients`. */
  static async start(o: { ns: string; dir: string; address: string; asn: number; clients: readonly ReflectorClient[] }): Promise<RouteReflector> {
    return new RouteReflector(await Frr.start(o.ns, o.dir, routeReflectorConfig(o.address, o.asn, o.clients)));
  }

  /** The session state with `client` (`Established`, …; `none` when FRR does not know it). */
  async sessionState(client: string): Promise<string> {
    const s = await this.frr.json<{ peers?: Record<string, { state: string }> }>('show bgp l2vpn evpn summary json');
    return s.peers?.[client]?.state ?? 'none';
  }

  evpnRoutes(): Promise<EvpnTableRoute[]> {
    return evpnTable(this.frr);
  }

  stop(): Promise<void> {
    return this.frr.stop();
  }
}

export function routeReflectorConfig(address: string, asn: number, clients: readonly ReflectorClient[]): string {
  const neighbours = clients
    .map((c) => ` neighbor ${c.address} remote-as ${asn}\n neighbor ${c.address} timers connect 5\n${c.password ? ` neighbor ${c.address} password ${c.password}\n` : ''}`)
    .join('');
  const af = clients.map((c) => `  neighbor ${c.address} activate\n  neighbor ${c.address} route-reflector-client\n`).join('');
  return `frr defaults traditional
hostname rr
log stdout informational
!
router bgp ${asn}
 bgp router-id ${address}
 bgp cluster-id ${address}
 no bgp default ipv4-unicast
${neighbours} address-family l2vpn evpn
${af} exit-address-family
!
`;
}
