/** The one-line descriptions of where a wait stands, from the API's answers. */
import type { BarrierResponse__Output, HostBehind__Output, Realisation__Output } from '@strata/proto';

function behindText(behind: readonly HostBehind__Output[]): string {
  return behind.map((h) => `${h.hostId} (${h.reason})`).join(', ');
}

/** "applied on 2 of 3 hosts; behind: h3 (agent applied 120 of 131)". */
export function appliedText(hosts: number, behind: readonly HostBehind__Output[]): string {
  if (hosts === 0) return 'no host holds it';
  const text = `applied on ${hosts - behind.length} of ${hosts} host${hosts === 1 ? '' : 's'}`;
  return behind.length === 0 ? text : `${text}; behind: ${behindText(behind)}`;
}

export function describeBarrier(b: BarrierResponse__Output): string {
  if (b.hosts === 0) return `position ${b.position}: no host has a view`;
  return `position ${b.position}: ${appliedText(b.hosts, b.behind)}`;
}

/** A port's: "port <id>: BUILD (plugging on h1); applied on 1 of 2 hosts; behind: ..."; others: "network <id>: applied on ...". */
export function describeRealisation(r: Realisation__Output): string {
  const applied = appliedText(r.hosts, r.behind);
  if (r.kind !== 'port') return `${r.kind} ${r.id}: ${applied}`;
  const status = r.portStatusReason === '' ? r.portStatus : `${r.portStatus} (${r.portStatusReason})`;
  return `port ${r.id}: ${status}; ${applied}`;
}

/** Done: a port when ACTIVE, anything else when applied on every host holding it. */
export function isRealised(r: Realisation__Output): boolean {
  return r.kind === 'port' ? r.portStatus === 'ACTIVE' : r.realised;
}
