/**
 * Neutron's error types for what the services answer. The services speak
 * Strata's error codes (libs/errors); Neutron clients branch on the
 * NeutronError `type` (`IpAddressAlreadyAllocated`, `NetworkInUse`, …), so
 * a resource names the type where Strata's code alone does not say it.
 * The REST core writes the body: `type` from `details.neutronType` and the
 * HTTP status from `details.neutronStatus` when present, otherwise both
 * from the code (docs/architecture.md, "The Neutron API and Keystone
 * identity").
 */
import { ErrorCode, StrataError, toStrataError, type ErrorDetails } from '@strata/errors';

/** A Strata error that names its Neutron type, and the HTTP status when Neutron's is not the code's. */
export class NeutronFault extends StrataError {
  override readonly name = 'NeutronFault';
  constructor(code: ErrorCode, neutronType: string, message: string, details: ErrorDetails = {}, neutronStatus?: number) {
    super(code, message, { ...details, neutronType, ...(neutronStatus === undefined ? {} : { neutronStatus }) });
  }
}

/** 400 InvalidInput, worded as Neutron words it ("Invalid input for <attr>. Reason: …"). */
export const invalidInput = (attribute: string, reason: string): NeutronFault =>
  new NeutronFault(ErrorCode.InvalidArgument, 'InvalidInput', `Invalid input for ${attribute}. Reason: ${reason}.`, { field: attribute });

/** How one service error becomes a Neutron type: the first rule matching its code (and field or kind) wins. */
export interface FaultRule {
  code: ErrorCode;
  /** Matches `details.field` (a prefix: `fixedIps` matches `fixedIps.0.ip`) … */
  field?: string;
  /** … or `details.kind` (NotFoundError's: `network`, `security group`). */
  kind?: string;
  type: string;
  /** The HTTP status Neutron answers with, when the code's is not it (an exhausted subnet: 409). */
  status?: number;
}

/** The error with its Neutron type named when a rule matches; otherwise as it was (the core maps it by code). */
export function neutronFault(err: unknown, rules: readonly FaultRule[]): unknown {
  if (!(err instanceof StrataError) || err.details['neutronType'] !== undefined || isStaleRevision(err)) return err;
  const field = typeof err.details.field === 'string' ? err.details.field : '';
  const kind = err.details['kind'];
  const rule = rules.find((r) => r.code === err.code && (r.field === undefined || field.startsWith(r.field)) && (r.kind === undefined || r.kind === kind));
  return rule ? new NeutronFault(err.code, rule.type, err.message, err.details, rule.status) : err;
}

/** A stale `expectedRevision` (RevisionConflictError, also after crossing NATS): the core's 412, never a resource's type. */
const isStaleRevision = (err: StrataError): boolean => err.code === ErrorCode.FailedPrecondition && err.details.field === 'expectedRevision';

/** Run a service call, naming the Neutron type of what it throws. */
export async function withFaults<T>(rules: readonly FaultRule[], call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw neutronFault(err, rules);
  }
}

/** Whatever the services refuse as invalid is Neutron's 400 InvalidInput (after the more specific rules). */
export const INVALID_INPUT_RULE: FaultRule = { code: ErrorCode.InvalidArgument, type: 'InvalidInput' };

/** The not-found types of the resources this module family names (another project's id is not found either). */
export const NOT_FOUND_RULES: readonly FaultRule[] = [
  { code: ErrorCode.NotFound, kind: 'network', type: 'NetworkNotFound' },
  { code: ErrorCode.NotFound, kind: 'subnet', type: 'SubnetNotFound' },
  { code: ErrorCode.NotFound, kind: 'port', type: 'PortNotFound' },
  { code: ErrorCode.NotFound, kind: 'security group', type: 'SecurityGroupNotFound' },
];

export { toStrataError };
