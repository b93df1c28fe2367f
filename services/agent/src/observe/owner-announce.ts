/**
 * Re-announcing a pair address's new owner to this host's VMs.
 *
 * The bridge's neighbour suppression keeps a gratuitous ARP on the host it
 * was sent on (the kernel does not flood sender = target ARP into a
 * suppressing VXLAN port), so VMs on other hypervisors never hear a VRRP
 * master's GARP: their ARP caches would keep the old owner's MAC until the
 * entry expires (tens of seconds). So when the host view says an address
 * is now owned by a port on another host, the agent sends that GARP itself
 * from its bridge device (owner's MAC as sender): it reaches the local
 * ports (and, by the same suppression, no other host), and their caches
 * move at once, as they would on a shared wire.
 *
 * Pure part: which (bridge, address, MAC) to announce for a view, given what
 * was announced; and the frame. The shell sends it with a raw socket
 * (python3, as the nft worker; in the managed namespace).
 */
import { bridgeName } from '../core/names.js';
import type { HostViewSnapshot } from '../core/snapshot.js';
import type { Exec } from '../kernel/exec.js';

export interface Announcement {
  bridge: string;
  ip: string;
  mac: string;
}

/** `<networkId> <ip>` → the owner's MAC, for the addresses owned by ports on other hosts. */
export function remoteOwners(view: HostViewSnapshot): Map<string, { bridge: string; ip: string; mac: string }> {
  const out = new Map<string, { bridge: string; ip: string; mac: string }>();
  for (const ep of Object.values(view.endpoints)) {
    const net = view.networks[ep.networkId];
    if (!net) continue;
    for (const o of ep.ownedAddresses ?? []) {
      if (o.ip.includes(':')) continue;
      out.set(`${ep.networkId} ${o.ip}`, { bridge: bridgeName(net.vni), ip: o.ip, mac: o.mac.toLowerCase() });
    }
  }
  return out;
}

/** What to announce now: remote owners that are new or whose MAC changed since `before`. */
export function announcements(before: ReadonlyMap<string, { mac: string }>, now: ReadonlyMap<string, Announcement>): Announcement[] {
  return [...now].filter(([k, a]) => before.get(k)?.mac !== a.mac).map(([, a]) => a);
}

/** An Ethernet broadcast ARP request with sender = target = `ip`, from `mac`: a gratuitous ARP. */
export function garpFrame(mac: string, ip: string): Uint8Array {
  const m = mac.split(':').map((x) => parseInt(x, 16));
  const a = ip.split('.').map(Number);
  return Uint8Array.from([
    ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], ...m, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
    ...m, ...a, ...[0, 0, 0, 0, 0, 0], ...a,
  ]);
}

const SEND = 'import socket,sys\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\ns.bind((sys.argv[1],0))\nfor h in sys.argv[2:]: s.send(bytes.fromhex(h))';

export class OwnerAnnouncer {
  private announced = new Map<string, Announcement>();

  constructor(private readonly o: { exec: Exec; logger: { warn(o: object, m: string): void } }) {}

  /** The current view: announce what changed (failures are logged; the next change announces again). */
  update(view: HostViewSnapshot): void {
    const now = remoteOwners(view);
    const due = announcements(this.announced, now);
    this.announced = now;
    const byBridge = new Map<string, string[]>();
    for (const a of due) byBridge.set(a.bridge, [...(byBridge.get(a.bridge) ?? []), Buffer.from(garpFrame(a.mac, a.ip)).toString('hex')]);
    for (const [bridge, frames] of byBridge) {
      void this.o.exec.run(['python3', '-c', SEND, bridge, ...frames]).then((r) => {
        if (r.code !== 0) this.o.logger.warn({ bridge, err: r.stderr.trim() }, 'could not announce a pair address owner');
      });
    }
  }
}
