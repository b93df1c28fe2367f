/**
 * What agents observe on their hypervisor and report to the control plane:
 * observations, not decisions. The service that owns the resource decides
 * and records its decision as an event (so a failover is audited with the
 * observation that caused it).
 *
 * An agent's NATS user may publish only under its own host's status
 * subject (`strata.status.<hostId>.>`), so a report's subject names its
 * reporter, and a service accepts a report about a port or a function only
 * from the host that port (the function's ingress port) is bound to.
 *
 *   strata.status.<host>.garp    a gratuitous ARP from a local port for one
 *                                of its allowed address pairs (IPAM records
 *                                the address's owner: the VRRP master)
 *   strata.status.<host>.health  a service function's health-check
 *                                transition (chaining decides)
 *   strata.status.<host>.l2gw-macs  the MACs (and IPs) a gateway host's
 *                                bridge learned behind each of its VLAN
 *                                bindings: the full set, on change and
 *                                every ~30 s (IPAM records the changes)
 */
import { z } from 'zod';

/** A gratuitous ARP (sender IP = target IP) seen from a local port, for an address of its allowed address pairs. */
export const GarpObservation = z.object({
  hostId: z.string(),
  portId: z.string(),
  ip: z.string(),
  mac: z.string(),
});
export type GarpObservation = z.infer<typeof GarpObservation>;

/** A health-check transition of a service function whose ingress port is on the reporting host (after rise/fall counting there). */
export const HealthObservation = z.object({
  hostId: z.string(),
  functionId: z.string(),
  healthy: z.boolean(),
  /** What the check saw, for the audit trail ("3 of 3 ICMP probes to 10.0.3.5 timed out after 500 ms"). */
  detail: z.string(),
});
export type HealthObservation = z.infer<typeof HealthObservation>;

/** One MAC a gateway host's bridge learned behind a binding's VLAN, with the IPs its neighbour tables know for it. */
export const GatewayMac = z.object({ mac: z.string(), ips: z.array(z.string()) });
export type GatewayMac = z.infer<typeof GatewayMac>;

/**
 * Everything a gateway host learned behind its VLAN bindings: a snapshot of
 * every binding the agent realises (one with no MACs is listed empty), so a
 * lost report is repaired by the next and a binding the host no longer
 * reports has learned nothing there.
 */
export const GatewayMacsObservation = z.object({
  hostId: z.string(),
  bindings: z.array(z.object({ bindingId: z.string(), macs: z.array(GatewayMac) })),
});
export type GatewayMacsObservation = z.infer<typeof GatewayMacsObservation>;

export const garpObservationSubject = (hostId: string): string => `strata.status.${hostId}.garp`;
export const healthObservationSubject = (hostId: string): string => `strata.status.${hostId}.health`;
/** What IPAM subscribes to: every host's GARP reports. */
export const GARP_OBSERVATIONS = 'strata.status.*.garp';
export const gatewayMacsSubject = (hostId: string): string => `strata.status.${hostId}.l2gw-macs`;
/** What IPAM subscribes to: every gateway host's learned MACs. */
export const GATEWAY_MACS_OBSERVATIONS = 'strata.status.*.l2gw-macs';
/** What chaining subscribes to: every host's health reports. */
export const HEALTH_OBSERVATIONS = 'strata.status.*.health';
/** The host a report's subject names (its second token). */
export const reporterOfSubject = (subject: string): string => subject.split('.')[2] ?? '';
