/**
 * A hardware VTEP as the lab's stand-in: a "switch" namespace running FRR
 * with `advertise-all-vni`, one Linux bridge and VXLAN device per VNI (static
 * FDB: `nolearning`, its local VTEP on the underlay), and bare-metal servers
 * in their own namespaces on an access port of the VNI's bridge.
 *
 *   <prefix>sw        eth0 = the switch's underlay address (its VTEP); br<vni> + vx<vni> per VNI
 *   <prefix>bm-<name> a server: eth0, its peer `p-<name>` an access port of br<vni>
 *
 * An access port carries untagged frames: the VLAN exists only inside the
 * switch, where it selects the VNI's bridge. That is what a port in access
 * VLAN N of a VLAN-to-VNI mapped switch does, and it is also all this kernel
 * can do: it has neither 802.1Q sub-interfaces (`type vlan`: "Unknown device
 * type") nor VLAN filtering on bridges ("Operation not supported").
 *
 * FRR learns a server's IP (for the MAC/IP route) from the switch's neighbour
 * table: the VNI's bridge gets an address in the segment (`svi`) and
 * `learnServer` makes the switch talk to the server once, as a switch's ARP
 * snooping would.
 *
 * FRR's route targets are its auto-derived `<its AS>:<VNI>`, which is what
 * Strata's routes carry for an `evpn` device (the device's AS and the VNI):
 * nothing per VNI is configured in FRR.
 */
import { Frr } from './bgp-fabric.js';
import { Netns } from './netns.js';
import { sh } from './sh.js';

export interface EvpnSwitchOptions {
  /** The switch's namespace, already attached to the underlay (eth0 carries `vtep`). */
  ns: Netns;
  /** Directory for FRR's files (readable by user frr). */
  dir: string;
  /** Prefix of the servers' namespaces. */
  prefix: string;
  vtep: string;
  asn: number;
  /** BGP neighbours: the gateways' engines, with their AS. */
  peers: { address: string; asn: number }[];
}

export class EvpnSwitch {
  private constructor(
    private readonly o: EvpnSwitchOptions,
    readonly frr: Frr,
  ) {}

  static async start(o: EvpnSwitchOptions): Promise<EvpnSwitch> {
    return new EvpnSwitch(o, await Frr.start(o.ns.name, o.dir, evpnSwitchConfig(o.vtep, o.asn, o.peers)));
  }

  /** The switch's namespace `<prefix>sw`, plugged into an underlay bridge (the Lab's `ul0` in its fabric namespace) with `vtep`/24. */
  static async onUnderlay(prefix: string, fabric: Netns, bridge: string, vtep: string): Promise<Netns> {
    const ns = await Netns.create(`${prefix}sw`);
    await sh(['ip', '-n', fabric.name, 'link', 'add', 'sw', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
    await fabric.ip(['link', 'set', 'sw', 'master', bridge, 'up']);
    await ns.ip(['addr', 'add', `${vtep}/24`, 'dev', 'eth0']);
    await ns.ip(['link', 'set', 'eth0', 'up']);
    return ns;
  }

  get ns(): Netns {
    return this.o.ns;
  }

  /**
   * The VNI's bridge and VXLAN device (FRR picks the VNI up from the kernel); `svi`: an address in the
   * segment, CIDR; `local`: the VXLAN device's source address when not the switch's VTEP (a switch
   * announcing another VTEP, for the tests of what Strata refuses).
   */
  async addVni(vni: number, svi?: string, local = this.o.vtep): Promise<void> {
    const ns = this.o.ns;
    await ns.ip(['link', 'add', `br${vni}`, 'type', 'bridge']);
    await ns.ip(['link', 'add', `vx${vni}`, 'type', 'vxlan', 'id', String(vni), 'local', local, 'dstport', '4789', 'nolearning']);
    await ns.ip(['link', 'set', `vx${vni}`, 'master', `br${vni}`]);
    // ARP for addresses FRR learned by EVPN is answered on the switch; remote MACs are never learned from the data path.
    await ns.ip(['link', 'set', `vx${vni}`, 'type', 'bridge_slave', 'neigh_suppress', 'on', 'learning', 'off']);
    if (svi) await ns.ip(['addr', 'add', svi, 'dev', `br${vni}`]);
    await ns.ip(['link', 'set', `br${vni}`, 'up']);
    await ns.ip(['link', 'set', `vx${vni}`, 'up']);
  }

  async removeVni(vni: number): Promise<void> {
    await this.o.ns.ip(['link', 'del', `vx${vni}`]);
    await this.o.ns.ip(['link', 'del', `br${vni}`]);
  }

  /** A bare-metal server on an access port of the VNI's bridge. */
  async addServer(name: string, vni: number, mac: string, cidr: string): Promise<Netns> {
    const server = await Netns.create(`${this.o.prefix}bm-${name}`);
    const port = `p-${name}`.slice(0, 15);
    await sh(['ip', '-n', this.o.ns.name, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', server.name]);
    await this.o.ns.ip(['link', 'set', port, 'master', `br${vni}`, 'up']);
    await server.ip(['link', 'set', 'eth0', 'address', mac]);
    // The segment's MTU on the overlay side (VXLAN's 50 bytes under a 1500-byte underlay).
    await server.ip(['link', 'set', 'eth0', 'mtu', '1450']);
    await server.ip(['addr', 'add', cidr, 'dev', 'eth0']);
    await server.ip(['link', 'set', 'eth0', 'up']);
    return server;
  }

  /** Make the switch resolve the server's address (its neighbour entry gives FRR the MAC/IP route). */
  async learnServer(ip: string): Promise<void> {
    await this.o.ns.ok(['ping', '-c', '1', '-W', '2', ip]);
  }

  /** The remote MACs FRR installed in the VNI's VXLAN device: MAC → VTEP (00:00:00:00:00:00 is the flood list). */
  async fdb(vni: number): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const line of (await this.o.ns.exec(['bridge', 'fdb', 'show', 'dev', `vx${vni}`])).split('\n')) {
      const m = /^([0-9a-f:]{17}) dst (\S+)/.exec(line.trim());
      if (!m) continue;
      out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
    }
    return out;
  }

  /** FRR's EVPN table (`show bgp l2vpn evpn json`), flattened: route key → its paths. */
  evpnRoutes(): Promise<EvpnTableRoute[]> {
    return evpnTable(this.frr);
  }

  async stop(): Promise<void> {
    await this.frr.stop();
  }
}

export function evpnSwitchConfig(vtep: string, asn: number, peers: { address: string; asn: number }[]): string {
  const neighbours = peers.map((p) => ` neighbor ${p.address} remote-as ${p.asn}\n neighbor ${p.address} timers connect 5\n`).join('');
  return `frr defaults traditional
hostname switch
log stdout informational
!
router bgp ${asn}
 bgp router-id ${vtep}
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
${neighbours} address-family l2vpn evpn
${peers.map((p) => `  neighbor ${p.address} activate\n`).join('')}  advertise-all-vni
 exit-address-family
!
`;
}

/** One path of FRR's EVPN table: its RD, route key, next hop and communities (`65500:1`, `RT:65500:1000`, …, as FRR writes them). */
export interface EvpnTableRoute {
  rd: string;
  prefix: string;
  nextHop: string;
  communities: string[];
  extendedCommunities: string[];
}

/** FRR's EVPN table (`show bgp l2vpn evpn json`), flattened: one entry per path. */
export async function evpnTable(frr: Frr): Promise<EvpnTableRoute[]> {
  const table = await frr.json<Record<string, unknown>>('show bgp l2vpn evpn json');
  const out: EvpnTableRoute[] = [];
  for (const [rd, v] of Object.entries(table)) {
    if (typeof v !== 'object' || v === null || !('rd' in v)) continue;
    for (const [prefix, p] of Object.entries(v as Record<string, unknown>)) {
      const paths = (p as { paths?: { nexthops?: { ip: string }[]; community?: { string: string }; extendedCommunity?: { string: string } }[] }).paths;
      if (!Array.isArray(paths)) continue;
      for (const path of paths.flat()) {
        out.push({
          rd,
          prefix,
          nextHop: path.nexthops?.[0]?.ip ?? '',
          communities: (path.community?.string ?? '').split(' ').filter(Boolean),
          extendedCommunities: (path.extendedCommunity?.string ?? '').split(' ').filter(Boolean),
        });
      }
    }
  }
  return out;
}
