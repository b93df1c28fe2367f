/**
 * The lab's border as a BGP router (Lab option `bgp`): FRR in the border
 * namespace peers with a Strata BGP gateway, whose gobgpd runs in its own
 * namespace on the underlay (`<p>gw`, 198.18.0.2); the gateway service runs
 * beside the control plane and reaches gobgpd through a Unix socket. The
 * border then learns each floating IP from the gateway, with the hosting
 * hypervisor as next hop, instead of the lab's static routes; it sends the
 * gateway a default route. The hypervisors' H-IPs are advertised by the
 * gateway too (next hop: the hypervisor), for the replies to PNAT traffic.
 * Routed IPv6 networks reach the border over the same session (MP-BGP IPv6
 * unicast) via the hypervisors' underlay IPv6 addresses.
 */
import { join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { BgpClient, ADMIN, type SeqTracker } from './control-client.js';
import { Frr, GATEWAY_AS, TOR_AS, torConfig, UNDERLAY6 } from './bgp-fabric.js';
import { BORDER_UNDERLAY_IP, type ExternalSide } from './external.js';
import { Netns } from './netns.js';
import { startProcess, type ManagedProcess } from './process.js';
import { sh } from './sh.js';
import type { NatsConnection } from 'nats';

export const GATEWAY_UNDERLAY_IP = '198.18.0.2';
/** TCP-MD5 secret of the lab's appliance peer groups (`passwordRef: 'appliances'`); lab only. */
export const LAB_APPLIANCE_PASSWORD = 'lab-appliance-md5';

export interface BgpBorder {
  frr: Frr;
  gobgpd: ManagedProcess;
  gateway: ManagedProcess;
  client: BgpClient;
  stop(): Promise<void>;
}

export interface BgpBorderOptions {
  prefix: string;
  fabric: Netns;
  external: ExternalSide;
  natsUrl: string;
  nc: NatsConnection;
  seq: SeqTracker;
  /** Starts and tracks a Strata service process (the lab's, so destroy() stops it by PID). */
  spawn: (name: string, service: string, env: Record<string, string>) => ManagedProcess;
}

export async function startBgpBorder(o: BgpBorderOptions): Promise<BgpBorder> {
  // Not under the lab's state directory: mkdtemp makes it 0700, and FRR's daemons run as user frr.
  const dir = join(tmpdir(), `${o.prefix}bgp`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const gw = await Netns.create(`${o.prefix}gw`);
  await sh(['ip', '-n', o.fabric.name, 'link', 'add', 'gw', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', gw.name]);
  await o.fabric.ip(['link', 'set', 'gw', 'master', 'ul0', 'up']);
  await gw.ip(['addr', 'add', `${GATEWAY_UNDERLAY_IP}/24`, 'dev', 'eth0']);
  await gw.ip(['link', 'set', 'eth0', 'up']);
  await gw.ip(['route', 'add', 'default', 'via', BORDER_UNDERLAY_IP]);

  const socket = join(dir, 'gobgp.sock');
  rmSync(socket, { force: true });
  const gobgpd = startProcess('gobgpd', ['ip', 'netns', 'exec', gw.name, 'gobgpd', '-p', `--api-hosts=unix://${socket}`, '--pprof-disable'], { readyWhen: /gobgpd started/ });
  let frr: Frr | undefined;
  try {
    frr = await Frr.start(o.external.border.name, join(dir, 'border'), torConfig([GATEWAY_UNDERLAY_IP]));
    await gobgpd.ready;
    const gateway = o.spawn('bgp-gateway', 'bgp-gateway', {
      GOBGP_TARGET: `unix://${socket}`,
      BGP_ROUTER_ID: GATEWAY_UNDERLAY_IP,
      BGP_SETTLE_MS: '1000',
      BGP_PASSWORD_APPLIANCES: LAB_APPLIANCE_PASSWORD,
      // IPv6 routes go via the hypervisors' underlay IPv6 addresses (lab.ts gives each its VTEP embedded in this /96).
      BGP_IPV6_NEXTHOP_PREFIX: UNDERLAY6,
    });
    await gateway.ready;
    const client = new BgpClient(o.nc, 15_000, o.seq);
    await client.command('settings.set', { localAs: GATEWAY_AS, routerId: GATEWAY_UNDERLAY_IP }, ADMIN);
    await client.command('peer.create', { name: 'border', address: BORDER_UNDERLAY_IP, remoteAs: TOR_AS }, ADMIN);
    const started = frr;
    return {
      frr: started,
      gobgpd,
      gateway,
      client,
      stop: async () => {
        await started.stop().catch(() => undefined);
        await gobgpd.stop(5_000).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    // Whatever started before the failure is stopped here: the lab's destroy() does not know about it yet.
    await frr?.stop().catch(() => undefined);
    await gobgpd.stop(5_000).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
