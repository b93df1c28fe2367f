/**
 * Deciders of the federation configuration (admin only, on the
 * `bgp.config.default` singleton like the rest of the gateway's
 * configuration): set it whole, or clear it. What a zone accepts from the
 * others is decided from it (domain/federation.ts), so everything that would
 * make a route's origin ambiguous is refused here, not guessed at later.
 */
import { IllegalStateError, ValidationError } from '@strata/errors';
import { BGP_CONFIG_AGGREGATE, type BgpCommand } from '@strata/contracts';
import { contains, overlaps, parseAddress, parsePrefix } from '@strata/netaddr';
import { requireAdmin } from '@strata/service-kit';
import type { BgpState, Federation } from '../state.js';
import { SYSTEM_TENANT, type CommandContext, type Decision } from './types.js';

const ACTION = 'configuring the federation of zones';

export function setFederation(state: BgpState, cmd: BgpCommand<'federation.set'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, ACTION);
  const federation: Federation = {
    localZone: cmd.localZone,
    federationAs: cmd.federationAs,
    routeReflectors: cmd.routeReflectors.map((r) => ({ address: r.address, passwordRef: r.passwordRef ?? null })),
    zones: cmd.zones.map((z) => ({ ...z, vtepPrefixes: [...z.vtepPrefixes], vniRanges: z.vniRanges.map((r) => ({ ...r })) })),
  };
  checkFederation(state, federation);
  if (JSON.stringify(state.config.federation) === JSON.stringify(federation)) return { kind: 'done', resourceId: 'federation' };
  return { kind: 'append', aggregate: BGP_CONFIG_AGGREGATE, expectedVersion: state.config.version, tenant: SYSTEM_TENANT, resourceId: 'federation', event: { type: 'bgp.FederationSet', data: federation } };
}

export function clearFederation(state: BgpState, _cmd: BgpCommand<'federation.clear'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, ACTION);
  if (state.config.federation === null) return { kind: 'done', resourceId: 'federation' };
  return { kind: 'append', aggregate: BGP_CONFIG_AGGREGATE, expectedVersion: state.config.version, tenant: SYSTEM_TENANT, resourceId: 'federation', event: { type: 'bgp.FederationCleared', data: {} } };
}

/**
 * Names and numbers unique (the local zone's too); route reflectors unique
 * and not fabric peers (one gobgpd neighbour per address); VTEP prefixes
 * IPv4, of no two zones overlapping and containing none of this zone's own
 * hypervisors (a route's next hop names exactly one zone, never this one);
 * VNI ranges of no two zones overlapping (each zone allocates its own).
 */
function checkFederation(state: BgpState, f: Federation): void {
  const names = new Map<string, string>([[f.localZone.name, 'localZone']]);
  const ids = new Map<number, string>([[f.localZone.id, 'localZone']]);
  f.zones.forEach((z, i) => {
    const at = `zones[${i}]`;
    const sameName = names.get(z.name);
    if (sameName !== undefined) throw new ValidationError(`${at}.name: ${z.name} is also the name of ${sameName}`, { field: `${at}.name` });
    const sameId = ids.get(z.id);
    if (sameId !== undefined) throw new ValidationError(`${at}.id: ${z.id} is also the number of ${sameId}`, { field: `${at}.id` });
    names.set(z.name, at);
    ids.set(z.id, at);
  });

  const reflectors = new Set<string>();
  f.routeReflectors.forEach((r, i) => {
    const at = `routeReflectors[${i}].address`;
    if (reflectors.has(r.address)) throw new ValidationError(`${at}: route reflector ${r.address} is named twice`, { field: at });
    reflectors.add(r.address);
    const peer = Object.values(state.config.peers).find((p) => p.address === r.address);
    if (peer) throw new IllegalStateError(`${at}: ${r.address} is the address of BGP peer ${peer.id} (${peer.name})`, { field: at });
  });

  const prefixes: { zone: string; at: string; text: string; prefix: ReturnType<typeof parsePrefix> }[] = [];
  const ranges: { zone: string; at: string; min: number; max: number }[] = [];
  f.zones.forEach((z, i) => {
    z.vtepPrefixes.forEach((text, j) => {
      const at = `zones[${i}].vtepPrefixes[${j}]`;
      const prefix = parsePrefix(text);
      if (prefix.version !== 4) throw new ValidationError(`${at}: VTEPs are IPv4; ${text} is not an IPv4 prefix`, { field: at });
      const clash = prefixes.find((p) => p.zone !== z.name && overlaps(p.prefix, prefix));
      if (clash) throw new ValidationError(`${at}: ${text} of zone ${z.name} overlaps ${clash.text} of zone ${clash.zone}`, { field: at });
      const host = Object.entries(state.fabric.hypervisors).find(([, vtep]) => contains(prefix, parseAddress(vtep)));
      if (host) throw new IllegalStateError(`${at}: ${text} contains the VTEP ${host[1]} of this zone's hypervisor ${host[0]}`, { field: at });
      prefixes.push({ zone: z.name, at, text, prefix });
    });
    z.vniRanges.forEach((r, j) => {
      const at = `zones[${i}].vniRanges[${j}]`;
      const clash = ranges.find((o) => o.zone !== z.name && o.min <= r.max && r.min <= o.max);
      if (clash) throw new ValidationError(`${at}: ${r.min}-${r.max} of zone ${z.name} overlaps ${clash.min}-${clash.max} of zone ${clash.zone}`, { field: at });
      ranges.push({ zone: z.name, at, ...r });
    });
  });
}
