/**
 * A route reflector that keeps a lost zone's EVPN routes: gobgpd in its own
 * namespace on the underlay, IBGP in the federation's AS, `l2vpn-evpn` only,
 * every zone's gobgpd a route-reflector client with TCP-MD5, and graceful
 * restart with long-lived graceful restart (RFC 4724, RFC 9494) toward each
 * (docs/architecture.md, "Failure domains"), with the N bit (RFC 8538:
 * a session ended by a notification other than a hard reset is a restart
 * too). When a client's session drops without a notification (the zone's
 * gobgpd crashed) or with one (it was stopped), its routes stay: stale
 * for the restart time the client advertised, then marked LLGR_STALE
 * (65535:6) and still reflected to the LLGR-capable clients for the stale
 * time it advertised; the client's
 * End-of-RIB on its return drops what it did not send again.
 *
 * Why not FRR (route-reflector.ts): FRR 8.4's graceful restart covers only
 * the unicast, multicast and VPN SAFIs (`FOREACH_AFI_SAFI_NSF` in
 * lib/zebra.h), so a lost client's EVPN routes are withdrawn at once
 * whatever is configured (verified here: an IPv4 route of the same session
 * was kept with `llgr-stale`, its EVPN route withdrawn). FRR's EVPN graceful
 * restart came later (FRRouting/frr#19778).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type ManagedProcess } from './process.js';
import type { ReflectorClient } from './route-reflector.js';
import { sh } from './sh.js';

/**
 * What the reflector advertises for its own restarts (the zones' gobgpds
 * are then the helpers). A lost client's routes are kept for the times that
 * client advertised (gobgpd's helper uses the peer's), i.e. what each zone's
 * gateway configures (services/bgp-gateway engine-config.ts).
 */
const OWN_RESTART_S = 5;
const OWN_LLGR_STALE_S = 86_400;

export class GobgpReflector {
  private constructor(
    private readonly process: ManagedProcess,
    private readonly socket: string,
  ) {}

  /** Start gobgpd in namespace `ns` (which has `address` on the underlay) with `clients`. */
  static async start(o: { ns: string; dir: string; address: string; asn: number; clients: readonly ReflectorClient[] }): Promise<GobgpReflector> {
    await sh(['mkdir', '-p', o.dir]);
    const config = join(o.dir, 'gobgpd.toml');
    writeFileSync(config, gobgpReflectorConfig(o.address, o.asn, o.clients), { mode: 0o600 });
    const socket = join(o.dir, 'gobgpd.sock');
    const p = startProcess(`${o.ns}-gobgpd`, ['ip', 'netns', 'exec', o.ns, 'gobgpd', '-f', config, '-p', `--api-hosts=unix://${socket}`, '--pprof-disable'], { readyWhen: /gobgpd started/ });
    await p.ready;
    return new GobgpReflector(p, socket);
  }

  /** The session state with `client` (`established`, `active`, …; `none` when it is not configured). */
  async sessionState(client: string): Promise<string> {
    const out = await sh(['gobgp', '--target', `unix://${this.socket}`, 'neighbor', client, '-j']).catch(() => '');
    if (!out) return 'none';
    const n = JSON.parse(out) as { state?: { session_state?: number | string } };
    const s = n.state?.session_state;
    return typeof s === 'number' ? (SESSION_STATES[s] ?? String(s)) : (s ?? 'none');
  }

  stop(): Promise<void> {
    return this.process.stop(5_000);
  }
}

/** gobgp's SessionState enum (api/gobgp.proto PeerState.SessionState). */
const SESSION_STATES = ['unknown', 'idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];

export function gobgpReflectorConfig(address: string, asn: number, clients: readonly ReflectorClient[]): string {
  const neighbour = (c: ReflectorClient): string => `
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${c.address}"
    peer-as = ${asn}
${c.password ? `    auth-password = "${c.password}"\n` : ''}  [neighbors.timers.config]
    connect-retry = 5
  [neighbors.route-reflector.config]
    route-reflector-client = true
    route-reflector-cluster-id = "${address}"
  [neighbors.graceful-restart.config]
    enabled = true
    long-lived-enabled = true
    notification-enabled = true
    restart-time = ${OWN_RESTART_S}
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l2vpn-evpn"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
    [neighbors.afi-safis.long-lived-graceful-restart.config]
      enabled = true
      restart-time = ${OWN_LLGR_STALE_S}
`;
  return `[global.config]
  as = ${asn}
  router-id = "${address}"
  port = 179
${clients.map(neighbour).join('')}`;
}
