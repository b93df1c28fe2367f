/**
 * Appliance VMs for the service-chaining end-to-end tests: a VM namespace
 * that routes (ip_forward on, back out through its own gateway), with its
 * own nftables counters and conntrack table, as a firewall or IDS would be.
 *
 * An appliance forwards traffic of other addresses, so its port has port
 * security off and no security group (as networking-sfc's port pairs).
 */
import type { Lab, Vm } from '@strata/lab';
import { sh } from '@strata/lab';
import type { TenantSetup } from '../overlay/scenario.js';
import { vmOn } from '../overlay/scenario.js';

/** The appliance's own table: counts the chained flows it forwards, by direction, and can drop them. */
const FW_TABLE = (port: number): string => `
table inet appliance {
  chain forward {
    type filter hook forward priority 0; policy accept;
    # a rule that uses conntrack, so the appliance keeps a conntrack entry per flow (what the flow-hash test reads)
    ct state invalid counter name invalid
    tcp dport ${port} counter name to_server
    tcp sport ${port} counter name to_client
    udp dport ${port} counter name udp_to_server
    udp sport ${port} counter name udp_to_client
    icmp type echo-request counter name ping
    icmp type echo-reply counter name pong
    jump verdict
  }
  chain verdict {}
  counter invalid {}
  counter to_server {}
  counter to_client {}
  counter udp_to_server {}
  counter udp_to_client {}
  counter ping {}
  counter pong {}
}
`;

export interface Appliance {
  vm: Vm;
  /** Packets the appliance forwarded, by counter name. */
  counters(): Promise<Record<string, number>>;
  /** Drop (or stop dropping) forwarded tcp to `port`: the firewall's verdict. */
  drop(port: number, on: boolean): Promise<void>;
  /** Its conntrack entries for tcp to `port`: `src:sport` of each flow and whether it saw both directions. */
  flows(port: number): Promise<Map<string, { replied: boolean }>>;
}

export async function applianceOn(lab: Lab, t: TenantSetup, name: string, netIndex: number, hostId: string, port: number): Promise<Appliance> {
  const vm = await vmOn(lab, t, name, netIndex, hostId);
  await lab.secgroup.command('port.setGroups', { portId: vm.port.id, groupIds: [] }, t.who);
  await lab.secgroup.command('port.setSecurity', { portId: vm.port.id, enabled: false }, t.who);
  const ns = vm.ns.name;
  // Forward, and never redirect the sender to the gateway it came from (a one-arm appliance sends back out eth0).
  for (const s of ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.eth0.rp_filter=0']) {
    await sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', s]);
  }
  await sh(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], { input: FW_TABLE(port) });
  return {
    vm,
    async counters() {
      const out = JSON.parse(await sh(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'counters', 'table', 'inet', 'appliance'])) as {
        nftables: { counter?: { name: string; packets: number } }[];
      };
      const result: Record<string, number> = {};
      for (const o of out.nftables) if (o.counter) result[o.counter.name] = o.counter.packets;
      return result;
    },
    async drop(p: number, on: boolean) {
      await sh(['ip', 'netns', 'exec', ns, 'nft', on ? `add rule inet appliance verdict tcp dport ${p} drop` : 'flush chain inet appliance verdict']);
    },
    async flows(p: number) {
      const text = await sh(['ip', 'netns', 'exec', ns, 'cat', '/proc/net/nf_conntrack']);
      const flows = new Map<string, { replied: boolean }>();
      for (const line of text.split('\n')) {
        if (!line.includes(' tcp ') || !line.includes(`dport=${p} `)) continue;
        const src = /src=(\S+)/.exec(line)?.[1];
        const sport = /sport=(\d+)/.exec(line)?.[1];
        if (!src || !sport) continue;
        // Both directions passed this appliance: the entry saw a reply ([UNREPLIED] otherwise).
        flows.set(`${src}:${sport}`, { replied: !line.includes('[UNREPLIED]') });
      }
      return flows;
    },
  };
}

/** Counter growth between two readings. */
export const delta = (before: Record<string, number>, after: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
