/**
 * The service-chaining service's events. Four aggregate kinds:
 *
 *   chaining.function.<id>    a service function (appliance legs, mode, VIP,
 *                             health check) and its health as decided from
 *                             the agents' observations
 *   chaining.group.<id>       a function group and its active member
 *   chaining.classifier.<id>  a flow classifier
 *   chaining.chain.<id>       a chain on a tenant router
 *
 * Every decision is an event, failovers included (FunctionHealthChanged,
 * ActiveFunctionChanged, each with its reason and the host that observed
 * it), so `strata events list` shows why traffic moved.
 *
 * Changing a schema: bump `version`, add an upcaster from the old one.
 */
import { z } from 'zod';
import { defineEvent, EventRegistry } from '@strata/eventlog';
import { ActiveReason, FlowClassifier, FunctionMode, GroupFallback, GroupSelection, HealthCheck, HealthReason } from './views.js';

export const CHAINING_CONTEXT = 'chaining';

/** Added after the first events were written: an older creation reads as no description (compatible both ways, no new version). */
const Description = z.string().default('');

export const ServiceFunctionCreated = defineEvent({
  type: 'chaining.ServiceFunctionCreated',
  version: 1,
  schema: z.object({
    functionId: z.string(),
    name: z.string(),
    description: Description,
    ingressPortId: z.string(),
    egressPortId: z.string(),
    mode: z.enum(FunctionMode),
    virtualIp: z.string().nullable(),
    healthCheck: HealthCheck.nullable(),
  }),
});

/** An update of a function: only the fields that changed are present (`healthCheck: null`: the check was removed). */
export const ServiceFunctionUpdated = defineEvent({
  type: 'chaining.ServiceFunctionUpdated',
  version: 1,
  schema: z.object({ functionId: z.string(), name: z.string().optional(), description: z.string().optional(), healthCheck: HealthCheck.nullable().optional() }),
});

export const ServiceFunctionDeleted = defineEvent({
  type: 'chaining.ServiceFunctionDeleted',
  version: 1,
  schema: z.object({ functionId: z.string() }),
});

/** The function's health as decided from its host's agent's checks (rise/fall counted there). */
export const FunctionHealthChanged = defineEvent({
  type: 'chaining.FunctionHealthChanged',
  version: 1,
  schema: z.object({
    functionId: z.string(),
    healthy: z.boolean(),
    reason: z.enum(HealthReason),
    /** The hypervisor whose agent reported it ('' when decided without an observation). */
    observedBy: z.string(),
    detail: z.string(),
  }),
});

export const FunctionGroupCreated = defineEvent({
  type: 'chaining.FunctionGroupCreated',
  version: 1,
  schema: z.object({
    groupId: z.string(),
    name: z.string(),
    description: Description,
    functionIds: z.array(z.string()),
    selection: z.enum(GroupSelection),
    fallback: z.enum(GroupFallback),
  }),
});

/** An update of a group: only the fields that changed (`functionIds`: the new members, in order). */
export const FunctionGroupUpdated = defineEvent({
  type: 'chaining.FunctionGroupUpdated',
  version: 1,
  schema: z.object({ groupId: z.string(), name: z.string().optional(), description: z.string().optional(), functionIds: z.array(z.string()).optional() }),
});

export const FunctionGroupDeleted = defineEvent({
  type: 'chaining.FunctionGroupDeleted',
  version: 1,
  schema: z.object({ groupId: z.string() }),
});

/** active-standby groups: traffic now goes to `functionId` (null: no member usable; the fallback applies). */
export const ActiveFunctionChanged = defineEvent({
  type: 'chaining.ActiveFunctionChanged',
  version: 1,
  schema: z.object({
    groupId: z.string(),
    functionId: z.string().nullable(),
    previousFunctionId: z.string().nullable(),
    reason: z.enum(ActiveReason),
    observedBy: z.string(),
    detail: z.string(),
  }),
});

export const FlowClassifierCreated = defineEvent({
  type: 'chaining.FlowClassifierCreated',
  version: 1,
  schema: z.object({ classifier: FlowClassifier, name: z.string(), description: Description }),
});

/** A classifier's new name or description (its match never changes). */
export const FlowClassifierUpdated = defineEvent({
  type: 'chaining.FlowClassifierUpdated',
  version: 1,
  schema: z.object({ classifierId: z.string(), name: z.string().optional(), description: z.string().optional() }),
});

export const FlowClassifierDeleted = defineEvent({
  type: 'chaining.FlowClassifierDeleted',
  version: 1,
  schema: z.object({ classifierId: z.string() }),
});

export const ChainCreated = defineEvent({
  type: 'chaining.ChainCreated',
  version: 1,
  schema: z.object({
    chainId: z.string(),
    name: z.string(),
    description: Description,
    routerId: z.string(),
    groupIds: z.array(z.string()),
    classifierIds: z.array(z.string()),
    symmetric: z.boolean(),
  }),
});

/** An update of a chain: only the fields that changed (`groupIds`: the new hops, in order). */
export const ChainUpdated = defineEvent({
  type: 'chaining.ChainUpdated',
  version: 1,
  schema: z.object({
    chainId: z.string(),
    name: z.string().optional(),
    description: z.string().optional(),
    groupIds: z.array(z.string()).optional(),
    classifierIds: z.array(z.string()).optional(),
  }),
});

export const ChainDeleted = defineEvent({
  type: 'chaining.ChainDeleted',
  version: 1,
  schema: z.object({ chainId: z.string() }),
});

export const chainingEvents = new EventRegistry([
  ServiceFunctionCreated,
  ServiceFunctionUpdated,
  ServiceFunctionDeleted,
  FunctionHealthChanged,
  FunctionGroupCreated,
  FunctionGroupUpdated,
  FunctionGroupDeleted,
  ActiveFunctionChanged,
  FlowClassifierCreated,
  FlowClassifierUpdated,
  FlowClassifierDeleted,
  ChainCreated,
  ChainUpdated,
  ChainDeleted,
] as const);
export type ChainingEvent = ReturnType<typeof chainingEvents.decode>;

export const serviceFunctionAggregate = (id: string) => ({ context: CHAINING_CONTEXT, type: 'function', id }) as const;
export const functionGroupAggregate = (id: string) => ({ context: CHAINING_CONTEXT, type: 'group', id }) as const;
export const flowClassifierAggregate = (id: string) => ({ context: CHAINING_CONTEXT, type: 'classifier', id }) as const;
export const chainAggregate = (id: string) => ({ context: CHAINING_CONTEXT, type: 'chain', id }) as const;
