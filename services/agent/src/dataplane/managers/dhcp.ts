/**
 * DHCP: one dnsmasq per routing domain namespace with static leases for this
 * host's ports (core/desired.ts, kernel/dnsmasq.ts). Its kernel work is
 * processes, around the shared apply: servers of domains that are gone stop
 * before their namespaces are deleted (a server keeps its namespace alive),
 * servers start or reload once their namespaces and gateways exist.
 */
import { desiredDhcp } from '../../core/desired.js';
import { DnsmasqManager } from '../../kernel/dnsmasq.js';
import type { Manager } from '../manager.js';

export const dhcp: Manager = {
  name: 'dhcp',
  desired: (view, ctx) => ({ dhcp: desiredDhcp(view, ctx, ctx.kernel.namespaces) }),
  attach(io) {
    const dnsmasq = new DnsmasqManager({ exec: io.exec, stateDir: io.stateDir, nsPrefix: io.nsPrefix, ...(io.dnsmasqBinary ? { binary: io.dnsmasqBinary } : {}) });
    return {
      beforeApply: (part) => dnsmasq.stopStale(part.dhcp ?? {}),
      afterApply: (part) => dnsmasq.sync(part.dhcp ?? {}),
    };
  },
};
