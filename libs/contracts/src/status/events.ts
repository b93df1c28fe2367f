/**
 * The status service's decisions: a hypervisor's agent stopped reporting
 * (after the liveness timeout) or reports again. One aggregate per host,
 * `status.hypervisor.<hostId>`. Ports' and resources' realisation are not
 * events: they are derived from these, from hostview's positions and from
 * the agents' reports, and change too often to be history.
 *
 * Changing a schema: bump `version`, add an upcaster from the old one.
 */
import { z } from 'zod';
import { defineEvent, EventRegistry } from '@strata/eventlog';

export const STATUS_CONTEXT = 'status';
export const hypervisorStatusAggregate = (hostId: string) => ({ context: STATUS_CONTEXT, type: 'hypervisor', id: hostId }) as const;

export const HypervisorAgentDown = defineEvent({
  type: 'status.HypervisorAgentDown',
  version: 1,
  schema: z.object({
    hostId: z.string(),
    /** When its last report or heartbeat arrived (status service's clock). */
    lastSeenAt: z.string(),
    /** The timeout that passed, in ms. */
    timeoutMs: z.number().int(),
    bootId: z.string(),
  }),
});

export const HypervisorAgentUp = defineEvent({
  type: 'status.HypervisorAgentUp',
  version: 1,
  schema: z.object({
    hostId: z.string(),
    bootId: z.string(),
    version: z.string(),
    /** A different bootId than when it went down: the agent restarted. */
    restarted: z.boolean(),
  }),
});

export const statusEvents = new EventRegistry([HypervisorAgentDown, HypervisorAgentUp]);
