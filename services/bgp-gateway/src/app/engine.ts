/**
 * Brings gobgpd's configuration to what the state says: global settings,
 * routing policy, neighbours. Idempotent and cheap when nothing changed
 * (the policy is re-sent only when it differs from the last one sent to
 * this gobgpd process; peers are compared by the signature in their
 * description), so the gateway calls it on every pass.
 */
import type { Logger } from '@strata/runtime';
import { evpnExportTargets } from '../domain/evpn.js';
import { federationExportTargets } from '../domain/federation.js';
import type { Neighbour } from '../domain/neighbours.js';
import type { BgpState } from '../domain/state.js';
import type { GobgpClient } from '../gobgp/client.js';
import { peerConfig, peerSignature, policiesFor } from '../gobgp/engine-config.js';
import { SecretNotFoundError, type Secrets } from './secrets.js';

export interface EngineSyncResult {
  /** gobgpd had not been started: a new process (first start, or it restarted). */
  started: boolean;
  peersAdded: number;
  peersRemoved: number;
  /** Neighbours left out because their secret is missing. */
  unresolved: string[];
}

export class EngineSync {
  private lastPolicy = '';
  /** Per peer address, what it was exported at the last sync (its export policy's inputs): a change needs a reset. */
  private lastExport = new Map<string, string>();
  /** gobgpd's peers (address → description) as read by the last deleteStalePeers. */
  private present = new Map<string, string>();
  /** Reflector sessions to open once the RIB holds this zone's routes (openReflectors). */
  private held = new Map<string, Wanted>();

  constructor(
    private readonly client: GobgpClient,
    private readonly secrets: Secrets,
    private readonly logger: Logger,
    /** This instance's router id when it differs from the shared settings' (the second of an anycast pair). */
    private readonly routerIdOverride?: string,
  ) {}

  /** Forget what was sent: the next sync sends everything (after gobgpd restarted). */
  forget(): void {
    this.lastPolicy = '';
    this.lastExport.clear();
  }

  async sync(state: BgpState, neighbours: ReadonlyMap<string, Neighbour>): Promise<EngineSyncResult> {
    const result: EngineSyncResult = { started: false, peersAdded: 0, peersRemoved: 0, unresolved: [] };
    const shared = state.config.settings;
    if (!shared) return result;
    const settings = { ...shared, routerId: this.routerIdOverride ?? shared.routerId };
    const global = await this.client.getGlobal();
    if (global.asn !== 0 && (global.asn !== settings.localAs || global.router_id !== settings.routerId || global.listen_port !== settings.listenPort)) {
      // An AS or router-id change needs a new BGP instance: every session restarts (an admin's deliberate change).
      this.logger.warn({ from: { asn: global.asn, routerId: global.router_id }, to: settings }, 'BGP settings changed: restarting the BGP instance');
      await this.client.stopBgp();
      global.asn = 0;
    }
    if (global.asn === 0) {
      await this.client.startBgp({ asn: settings.localAs, router_id: settings.routerId, listen_port: settings.listenPort });
      this.forget();
      result.started = true;
    }
    // Peers that go are deleted first, the policy follows, new peers come last: a new fabric peer's routes
    // are never judged by an old policy, and an appliance's routes are rejected by the import policy whether
    // or not it is still configured (the policy is an allow-list of fabric peers: engine-config.ts).
    const wanted = this.resolvePasswords(neighbours, result);
    await this.deleteStalePeers(wanted, result);
    const policy = JSON.stringify(policiesFor(neighbours.values(), evpnExportTargets(state), federationExportTargets(state)));
    if (policy !== this.lastPolicy) {
      await this.client.setPolicies(JSON.parse(policy) as ReturnType<typeof policiesFor>);
      this.lastPolicy = policy;
      await this.resendExports(neighbours);
    }
    // Every sync, not only those that change the policy: a neighbour that came without changing it is known when it later does.
    this.lastExport = new Map([...neighbours].map(([address, n]) => [address, exportsOf(n)]));
    await this.addMissingPeers(wanted, result);
    return result;
  }

  /**
   * A live session whose exports changed (a peer group's sendDefault
   * updated) gets the change now, not with the next route change: gaining
   * the default route by a soft reset (the session stays up), losing it by a
   * session reset (a soft one withdraws nothing, client.ts), as a new AS,
   * secret or limit re-creates the session. New sessions get the current
   * policy anyway; after a restart of gobgpd every session is new. (A change
   * made while this gateway process was not running reaches a session that
   * outlived it only with the next route change or session reset: the
   * process does not know what gobgpd exported before it started.)
   */
  private async resendExports(neighbours: ReadonlyMap<string, Neighbour>): Promise<void> {
    for (const [address, n] of neighbours) {
      const before = this.lastExport.get(address);
      const now = exportsOf(n);
      if (before === undefined || before === now || !this.present.has(address)) continue;
      const narrowed = before === 'appliance+default' && now === 'appliance';
      this.logger.info({ peer: address, exports: now }, narrowed ? 'export policy narrowed: resetting the session' : 'export policy changed: soft reset out');
      await this.client.resetPeer(address, !narrowed);
    }
  }

  private resolvePasswords(neighbours: ReadonlyMap<string, Neighbour>, result: EngineSyncResult): Map<string, Wanted> {
    const wanted = new Map<string, Wanted>();
    for (const n of neighbours.values()) {
      try {
        wanted.set(n.address, { n, password: this.secrets.passwordOf(n) });
      } catch (err) {
        if (!(err instanceof SecretNotFoundError)) throw err;
        result.unresolved.push(n.address);
        this.logger.error({ peer: n.address, passwordRef: n.passwordRef }, err.message);
      }
    }
    return wanted;
  }

  private async deleteStalePeers(wanted: ReadonlyMap<string, Wanted>, result: EngineSyncResult): Promise<void> {
    this.present = new Map((await this.client.listPeers()).filter((p) => p.conf).map((p) => [p.conf!.neighbor_address, p.conf!.description ?? '']));
    for (const [address, description] of this.present) {
      const w = wanted.get(address);
      if (w && description === peerSignature(w.n, w.password)) continue;
      // Not ours to keep, or changed (AS, password, limits): re-created, since a password change resets the session anyway.
      await this.client.deletePeer(address);
      this.present.delete(address);
      result.peersRemoved++;
    }
  }

  /**
   * A route reflector's session is held back until openReflectors: with
   * graceful restart, gobgpd sends its table and End-of-RIB as soon as the
   * session is up, and End-of-RIB tells the reflector to drop every stale
   * route of this zone it has not been sent again. Opened only after the RIB
   * pass, the new session carries the whole table before its End-of-RIB,
   * so a restarted gobgpd (or gateway) never makes the reflector withdraw,
   * even for a moment, what this zone still has (docs/architecture.md
   * "Failure domains").
   */
  private async addMissingPeers(wanted: ReadonlyMap<string, Wanted>, result: EngineSyncResult): Promise<void> {
    this.held = new Map();
    for (const [address, w] of wanted) {
      if (this.present.has(address)) continue;
      if (w.n.kind === 'reflector') this.held.set(address, w);
      else await this.addPeer(w, result);
    }
  }

  /** Open the reflector sessions held back by the last sync (call after the RIB pass); returns how many. */
  async openReflectors(): Promise<number> {
    const held = [...this.held.values()];
    this.held = new Map();
    const result: EngineSyncResult = { started: false, peersAdded: 0, peersRemoved: 0, unresolved: [] };
    for (const w of held) await this.addPeer(w, result);
    return result.peersAdded;
  }

  private async addPeer({ n, password }: Wanted, result: EngineSyncResult): Promise<void> {
    await this.client.addPeer(peerConfig(n, password));
    this.present.set(n.address, peerSignature(n, password));
    result.peersAdded++;
  }
}

/**
 * Everything `EngineSync.sync` reads from the state, as text: the settings,
 * the neighbours (kind, AS, secret reference, limits, exports), the EVPN
 * export targets and the federation's (a federated network adds one to the
 * reflectors' export policy). Equal inputs need no sync of the same gobgpd process
 * (gateway.ts skips it: most events, a floating IP's for one, change none
 * of them).
 */
export function engineInputs(state: BgpState, neighbours: ReadonlyMap<string, Neighbour>): string {
  return JSON.stringify([state.config.settings, [...neighbours.values()], [...evpnExportTargets(state)], federationExportTargets(state)]);
}

/** What decides a neighbour's exports in policiesFor (engine-config.ts): its kind, and for an appliance its default route. */
const exportsOf = (n: Neighbour): string => (n.kind !== 'appliance' ? n.kind : n.sendDefault ? 'appliance+default' : 'appliance');

interface Wanted {
  n: Neighbour;
  password: string;
}
