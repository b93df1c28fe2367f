/**
 * Neutron's error types for what the services answer about networks,
 * subnets and ports. The services speak Strata's error codes
 * (libs/errors); Neutron clients branch on the NeutronError `type`
 * (`IpAddressAlreadyAllocated`, `NetworkInUse`, …), so where Neutron has a
 * specific exception a rule names it, and the module throws the core's
 * NeutronHttpError (which the core answers as is). Everything no rule
 * names is left to the core's generic mapping (`fromStrataError`), a
 * stale `If-Match` included (412).
 */
import { ErrorCode, StrataError } from '@strata/errors';
import { displayName, httpBadRequest, NeutronHttpError } from '../errors.js';

/** 400 as Neutron's attribute checks answer a value of the wrong type (api/v2/base.py: HTTPBadRequest). */
export const invalidInput = (attribute: string, reason: string): NeutronHttpError => httpBadRequest(`Invalid input for ${attribute}. Reason: ${reason}.`);

/** How one service error becomes a Neutron type: the first rule matching its code (and field or kind) wins. */
export interface FaultRule {
  code: ErrorCode;
  /** Matches `details.field` (a prefix: `fixedIps` matches `fixedIps.0.ip`) … */
  field?: string;
  /** … or `details.kind` (NotFoundError's: `network`, `security group`). */
  kind?: string;
  type: string;
  /** Neutron's HTTP status for it. */
  status: number;
  /** Neutron's text, when the service's message is not what Neutron says (not-found: `Network <id> could not be found.`). */
  message?: (err: StrataError) => string;
}

/** A stale `expectedRevision` (RevisionConflictError, also after crossing NATS): the core's 412, never a resource's type. */
const isStaleRevision = (err: StrataError): boolean => err.code === ErrorCode.FailedPrecondition && err.details.field === 'expectedRevision';

/** The error as Neutron's exception when a rule names one; otherwise as it was. */
export function neutronFault(err: unknown, rules: readonly FaultRule[]): unknown {
  if (!(err instanceof StrataError) || isStaleRevision(err)) return err;
  const field = typeof err.details.field === 'string' ? err.details.field : '';
  const kind = err.details['kind'];
  const rule = rules.find((r) => r.code === err.code && (r.field === undefined || field.startsWith(r.field)) && (r.kind === undefined || r.kind === kind));
  return rule ? new NeutronHttpError(rule.status, rule.type, rule.message ? rule.message(err) : err.message) : err;
}

/** Run a service call, naming the Neutron type of what it throws. */
export async function withFaults<T>(rules: readonly FaultRule[], call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw neutronFault(err, rules);
  }
}

/** Whatever the services refuse as invalid is Neutron's 400 InvalidInput (after the more specific rules). */
export const INVALID_INPUT_RULE: FaultRule = {
  code: ErrorCode.InvalidArgument,
  type: 'InvalidInput',
  status: 400,
  message: (e) => `Invalid input for operation: ${e.message}.`,
};

/** A detail of the service's error as text, for Neutron's message ('' when the service did not give it). */
export const text = (e: StrataError, key: string): string => (typeof e.details[key] === 'string' ? (e.details[key] as string) : '');

/** neutron-lib's not-found text: `Network <id> could not be found.` */
const notFoundText = (member: string) => (e: StrataError) => `${displayName(member)} ${text(e, 'id')} could not be found.`;

/** The not-found types of what these modules name (another project's id is not found either). */
export const NOT_FOUND_RULES: readonly FaultRule[] = [
  { code: ErrorCode.NotFound, kind: 'network', type: 'NetworkNotFound', status: 404, message: notFoundText('network') },
  { code: ErrorCode.NotFound, kind: 'subnet', type: 'SubnetNotFound', status: 404, message: notFoundText('subnet') },
  { code: ErrorCode.NotFound, kind: 'port', type: 'PortNotFound', status: 404, message: notFoundText('port') },
  { code: ErrorCode.NotFound, kind: 'security group', type: 'SecurityGroupNotFound', status: 404, message: notFoundText('security_group') },
];
