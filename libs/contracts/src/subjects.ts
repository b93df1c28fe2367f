/**
 * The NATS subject layout (documented in docs/architecture.md).
 *
 *   strata.evt.<context>.<aggregateType>.<aggregateId>   domain events (stream STRATA_EVENTS)
 *   strata.cmd.<service>.<op>                             commands, request/reply, queue group = service
 *   strata.qry.<service>.<op>                             queries, request/reply, queue group = service
 */
export const EVENT_SUBJECT_ROOT = 'strata.evt';
export const commandSubject = (service: string, op: string): string => `strata.cmd.${service}.${op}`;
export const querySubject = (service: string, op: string): string => `strata.qry.${service}.${op}`;
export const eventFilter = (context: string): string => `${EVENT_SUBJECT_ROOT}.${context}.>`;
