/**
 * The gateway-MAC watcher's shell: while the view has `l2gw` keys, read the
 * bridge FDB (one `bridge -j fdb show`) and the neighbour table of each
 * routing domain the bindings' networks are in (one `ip -j neigh` per
 * domain) every few seconds, and publish the snapshot (gateway-macs.ts) on
 * the host's own status subject when it changed and at least every 30 s
 * (a lost report is repaired by the next). Polling keeps the cost flat in
 * the number of bindings: a thousand VLANs are one FDB dump per round.
 */
import type { GatewayMacsObservation, L2Gateway } from '@strata/contracts';
import { domainNamespace, gatewayDomainEnd, l2gwVlanName } from '../core/names.js';
import type { HostViewSnapshot } from '../core/snapshot.js';
import type { Exec } from '../kernel/exec.js';
import { gatewayMacsReport, type ObservedBinding } from './gateway-macs.js';

export interface GatewayMacsWatcherOptions {
  hostId: string;
  /** Runs in the managed namespace (the agent's `exec`). */
  exec: Exec;
  nsPrefix: string;
  view: () => HostViewSnapshot | null;
  publish: (o: GatewayMacsObservation) => void;
  logger?: { warn(o: object, m: string): void };
  pollMs?: number;
  republishMs?: number;
  /** The device a binding's MACs are learned on: its VLAN device (a test on a kernel without 802.1Q bridges the trunk itself). */
  deviceOf?: (b: L2Gateway) => string;
}

/** The bindings of a view as the watcher observes them. */
export function observedBindings(view: HostViewSnapshot, nsPrefix: string, deviceOf: (b: L2Gateway) => string = (b) => l2gwVlanName(b.nic, b.vlan)): ObservedBinding[] {
  return Object.values(view.l2gateways).flatMap((b) => {
    const net = view.networks[b.networkId];
    if (!net) return [];
    const neighbours = view.domains[net.domainId] ? { ns: domainNamespace(nsPrefix, net.domainId), dev: gatewayDomainEnd(net.vni) } : null;
    return [{ bindingId: b.id, device: deviceOf(b), neighbours }];
  });
}

export class GatewayMacsWatcher {
  private timer: NodeJS.Timeout | null = null;
  private last = '';
  private lastAt = 0;
  private busy = false;

  constructor(private readonly o: GatewayMacsWatcherOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.o.pollMs ?? 5000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One round: read, and publish when changed or due. Returns the report (null: no bindings here). */
  async poll(): Promise<GatewayMacsObservation | null> {
    const view = this.o.view();
    const bindings = view ? observedBindings(view, this.o.nsPrefix, this.o.deviceOf) : [];
    // A host that had bindings reports once more with none, so IPAM withdraws what they learned.
    if (this.busy || (bindings.length === 0 && this.last === '')) return null;
    this.busy = true;
    try {
      const report = await this.read(bindings);
      const text = JSON.stringify(report);
      const now = Date.now();
      if (text !== this.last || now - this.lastAt >= (this.o.republishMs ?? 30_000)) {
        this.o.publish(report);
        this.last = bindings.length === 0 ? '' : text;
        this.lastAt = now;
      }
      return report;
    } catch (err) {
      this.o.logger?.warn({ err }, 'gateway MACs not read');
      return null;
    } finally {
      this.busy = false;
    }
  }

  private async read(bindings: ObservedBinding[]): Promise<GatewayMacsObservation> {
    const fdb = bindings.length === 0 ? [] : json(await this.o.exec.run(['bridge', '-j', 'fdb', 'show']), 'bridge fdb');
    const neighbours = new Map<string, unknown>();
    for (const ns of new Set(bindings.flatMap((b) => (b.neighbours ? [b.neighbours.ns] : [])))) {
      const r = await this.o.exec.run(['ip', '-n', ns, '-j', 'neigh', 'show']);
      // A domain namespace not (yet) made: its MACs are reported without IPs.
      if (r.code === 0) neighbours.set(ns, json(r, 'ip neigh'));
    }
    return gatewayMacsReport(this.o.hostId, bindings, fdb, neighbours);
  }
}

function json(r: { code: number; stdout: string; stderr: string }, what: string): unknown {
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout.trim() === '' ? [] : JSON.parse(r.stdout);
}
