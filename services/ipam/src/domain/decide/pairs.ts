/**
 * Allowed address pairs: setting them (a command) and recording the owner
 * of a pair address from an agent's GARP report (an observation).
 *
 * Both live on the port's network aggregate (`ipam.network.<id>`): the
 * owner decision reads the port's pairs, binding and existence, so deciding
 * it against the same version means an owner event can never land for a
 * port that was deleted, moved, or lost the pair in the meantime; and the
 * two ports of a VRRP pair claiming one address are ordered by that one
 * version (the later accepted report wins, as the later GARP does on a
 * wire). GARPs are rare (a failover), so sharing the version with port
 * churn of the network costs at most a retried decision.
 */
import { ValidationError } from '@strata/errors';
import {
  networkAggregate,
  pairsAdmit,
  pairVersion,
  type AllowedAddressPair,
  type GarpObservation,
  type IpamCommand,
} from '@strata/contracts';
import { uuidFromHash } from '@strata/eventlog';
import { canonicalAddress } from '@strata/netaddr';
import type { IpamState, NetworkState, PortEntry } from '../state.js';
import { updatePort } from './port.js';
import type { Append, CommandContext, Decision } from './types.js';

type PairInput = { ipAddress: string; macAddress?: string | undefined };

/**
 * The pairs as IPAM records them (each MAC explicit: the port's own when
 * none was given), or a ValidationError naming the field: an address family
 * no subnet of the network has, a pair given twice, a pair that is the
 * port's own MAC and fixed IP (Neutron refuses it too: it would change
 * nothing). Addresses and bounds were checked by the request schema.
 */
export function resolvePairs(n: NetworkState, networkId: string, port: Pick<PortEntry, 'mac' | 'fixedIps'>, input: readonly PairInput[], field: string): AllowedAddressPair[] {
  const versions = new Set(Object.values(n.subnets).map((s) => s.ipVersion));
  const seen = new Set<string>();
  return input.map((p, i) => {
    const at = `${field}.${i}`;
    const pair = { ipAddress: p.ipAddress, macAddress: p.macAddress ?? port.mac };
    const version = pairVersion(pair);
    if (!versions.has(version)) {
      throw new ValidationError(`allowed address pair ${pair.ipAddress} is IPv${version} but network ${networkId} has no IPv${version} subnet`, { field: `${at}.ipAddress` });
    }
    const key = `${pair.ipAddress} ${pair.macAddress}`;
    if (seen.has(key)) throw new ValidationError(`allowed address pair ${pair.ipAddress} with MAC ${pair.macAddress} is given twice`, { field: at });
    seen.add(key);
    if (pair.macAddress === port.mac && !pair.ipAddress.includes('/') && port.fixedIps.some((f) => f.ip === pair.ipAddress)) {
      throw new ValidationError(`allowed address pair ${pair.ipAddress} with MAC ${pair.macAddress} is the port's own fixed IP and MAC`, { field: at });
    }
    return pair;
  });
}

export const samePairs = (a: readonly AllowedAddressPair[], b: readonly AllowedAddressPair[]): boolean =>
  a.length === b.length && a.every((p, i) => p.ipAddress === b[i]!.ipAddress && p.macAddress === b[i]!.macAddress);

/** `port.setAllowedAddressPairs`: kept for existing clients, it is `port.update` with only the pairs (so one event type and one check for both). */
export const setAllowedAddressPairs = (state: IpamState, cmd: IpamCommand<'port.setAllowedAddressPairs'>, ctx: CommandContext): Decision =>
  updatePort(state, { id: cmd.id, allowedAddressPairs: cmd.allowedAddressPairs }, ctx);

/** Why a GARP report changes nothing (the label of the ignored-reports counter). */
export type GarpIgnored = 'unknown-port' | 'wrong-host' | 'not-a-pair' | 'reporter-mismatch';

export type GarpVerdict =
  | { kind: 'ignore'; reason: GarpIgnored }
  /** The address's owner is already this port with this MAC. */
  | { kind: 'unchanged' }
  | { kind: 'owner'; decision: Append };

/**
 * What a GARP report means, given the host its subject names (`reporter`):
 * accepted only from the host the port is bound to, and only for an address
 * one of the port's pairs admits with the reported MAC. Pure: every IPAM
 * instance judges the same report against the same state alike.
 */
export function judgeGarp(state: IpamState, reporter: string, report: GarpObservation): GarpVerdict {
  if (report.hostId !== reporter) return { kind: 'ignore', reason: 'reporter-mismatch' };
  const networkId = state.portNetwork[report.portId];
  const n = networkId === undefined ? undefined : state.networks[networkId];
  const port = n?.ports[report.portId];
  if (!n || !port || networkId === undefined) return { kind: 'ignore', reason: 'unknown-port' };
  if (port.hostId !== reporter) return { kind: 'ignore', reason: 'wrong-host' };
  const pairs = port.allowedAddressPairs ?? [];
  const ip = canonicalOrNull(report.ip);
  const mac = report.mac.toLowerCase();
  if (ip === null || !pairsAdmit(pairs, ip, mac)) return { kind: 'ignore', reason: 'not-a-pair' };
  const current = n.pairOwners[ip];
  if (current?.portId === port.id && current.mac === mac) return { kind: 'unchanged' };
  return {
    kind: 'owner',
    decision: {
      kind: 'append',
      aggregate: networkAggregate(networkId),
      expectedVersion: n.version,
      tenant: port.tenant,
      resourceId: port.id,
      event: {
        type: 'ipam.AddressPairOwnerChanged',
        data: { networkId, ip, portId: port.id, mac, previousPortId: current?.portId ?? null, observedBy: reporter },
      },
    },
  };
}

function canonicalOrNull(ip: string): string | null {
  try {
    return canonicalAddress(ip);
  } catch {
    return null;
  }
}

/** The decider the executor runs for a report (re-judged on every attempt): the owner event, or nothing. */
export const decideGarp =
  (reporter: string, report: GarpObservation) =>
  (state: IpamState): Decision => {
    const v = judgeGarp(state, reporter, report);
    return v.kind === 'owner' ? v.decision : { kind: 'done', resourceId: report.portId };
  };

/**
 * The owner event's id, derived from the decision: two IPAM instances (or a
 * redelivered report) deciding the same change on the same version write one
 * event (JetStream de-duplication), the second finds a conflict and then
 * "unchanged".
 */
export function garpEventId(d: Append): string {
  const e = d.event;
  if (e.type !== 'ipam.AddressPairOwnerChanged') throw new Error(`not an owner change: ${e.type}`);
  return uuidFromHash(`ipam.garp ${e.data.networkId} ${e.data.ip} ${e.data.portId} ${e.data.mac} ${d.expectedVersion}`);
}
