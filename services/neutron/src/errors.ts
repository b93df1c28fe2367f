/**
 * Errors as Neutron answers them: an HTTP status and
 * `{"NeutronError": {"type", "message", "detail"}}`, where `type` is the
 * Python exception's class name and `message` its text (neutron
 * api_common.convert_exception_to_http_exc; webob's HTTP errors carry their
 * detail or, without one, their class's explanation). The texts below are
 * Neutron's, from neutron, neutron-lib and webob. The one place a
 * StrataError becomes a Neutron error is `fromStrataError`.
 */
import { ErrorCode, toStrataError, type StrataError } from '@strata/errors';
import type { Json, ResourceDefinition } from './resource.js';

export class NeutronHttpError extends Error {
  override readonly name = 'NeutronHttpError';
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly detail = '',
  ) {
    super(message);
  }

  body(): Json {
    return { NeutronError: { type: this.type, message: this.message, detail: this.detail } };
  }
}

/** webob.exc.HTTPBadRequest(msg): most of Neutron's request checks (attribute map, body, filters, sorting). */
export const httpBadRequest = (message: string): NeutronHttpError => new NeutronHttpError(400, 'HTTPBadRequest', message);

/** neutron_lib.exceptions.BadRequest(resource=…, msg=…). */
export const badRequest = (resource: string, msg: string): NeutronHttpError => new NeutronHttpError(400, 'BadRequest', `Bad ${resource} request: ${msg}.`);

/** neutron_lib.exceptions.InvalidInput(error_message=…): converters (booleans, integers, key=value lists) and validators. */
export const invalidInput = (errorMessage: string): NeutronHttpError => new NeutronHttpError(400, 'InvalidInput', `Invalid input for operation: ${errorMessage}.`);

/** pecan.abort(404): a path no controller serves, or another project's resource hidden by policy. */
export const resourceNotFound = (): NeutronHttpError => new NeutronHttpError(404, 'HTTPNotFound', 'The resource could not be found.');

/** pecan.abort(405): webob's HTTPMethodNotAllowed has no explanation of its own, so it is HTTPClientError's. */
export const methodNotAllowed = (): NeutronHttpError =>
  new NeutronHttpError(405, 'HTTPMethodNotAllowed', 'The server could not comply with the request since\r\nit is either malformed or otherwise incorrect.\r\n');

/** oslo.policy's PolicyNotAuthorized, as Neutron's policy hook lets it through (403). */
export const policyNotAuthorized = (rule: string): NeutronHttpError => new NeutronHttpError(403, 'PolicyNotAuthorized', `${rule} is disallowed by policy`);

/** neutron.services.revisions.RevisionNumberConstraintFailed (an HTTPPreconditionFailed with this detail). */
export const revisionConstraintFailed = (expected: number, current: number): NeutronHttpError =>
  new NeutronHttpError(412, 'RevisionNumberConstraintFailed', `Constrained to ${expected}, but current revision is ${current}`);

/** oslo.middleware's sizelimit (HTTPRequestEntityTooLarge). */
export const requestTooLarge = (): NeutronHttpError => new NeutronHttpError(413, 'HTTPRequestEntityTooLarge', 'Request is too large.');

/** Everything else (Neutron hides a 500's cause from the client). */
export const internalError = (): NeutronHttpError =>
  new NeutronHttpError(500, 'HTTPInternalServerError', 'Request Failed: internal server error while processing your request.');

/** neutron_lib.exceptions.ServiceUnavailable. */
export const serviceUnavailable = (): NeutronHttpError => new NeutronHttpError(503, 'ServiceUnavailable', 'The service is unavailable.');

/** `security_group` → `Security group` (the default not-found text of a resource). */
export function displayName(member: string): string {
  const words = member.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function notFoundOf(def: ResourceDefinition, id: string): NeutronHttpError {
  const message = def.notFoundMessage ? def.notFoundMessage(id) : `${displayName(def.member)} ${id} could not be found.`;
  return new NeutronHttpError(404, def.notFound, message);
}

/** The request a StrataError answered, as far as the mapping needs it. */
export interface ErrorScope {
  /** The resource the URL names; absent for paths without one. */
  def?: ResourceDefinition;
  /** The id in the URL, if any. */
  id?: string;
}

/** A RevisionConflictError as it crosses NATS (its class is not kept: its code and details are). */
function revisionConflict(e: StrataError): { expected: number; current: number } | undefined {
  const { field, expectedRevision, revision } = e.details;
  if (e.code !== ErrorCode.FailedPrecondition || field !== 'expectedRevision') return undefined;
  if (typeof expectedRevision !== 'number' || typeof revision !== 'number') return undefined;
  return { expected: expectedRevision, current: revision };
}

/**
 * A service's verdict (or anything thrown) as Neutron's error. Resource
 * modules that know Neutron's exact exception for a case (IpAddressInUse,
 * SecurityGroupRuleExists, …) throw a NeutronHttpError themselves; this is
 * the generic mapping for the rest. PERMISSION_DENIED on another project's
 * resource is made a 404 by the engine, which can look the resource up.
 */
export function fromStrataError(err: unknown, scope: ErrorScope = {}): NeutronHttpError {
  if (err instanceof NeutronHttpError) return err;
  const e = toStrataError(err);
  const revision = revisionConflict(e);
  if (revision) return revisionConstraintFailed(revision.expected, revision.current);
  switch (e.code) {
    case ErrorCode.NotFound: {
      // The resource the URL names: its own type. Anything else the command referred to: Neutron's generic NotFound.
      const id = typeof e.details['id'] === 'string' ? e.details['id'] : undefined;
      if (scope.def && (id === undefined || id === scope.id) && scope.id !== undefined) return notFoundOf(scope.def, scope.id);
      return new NeutronHttpError(404, 'NotFound', e.message);
    }
    case ErrorCode.InvalidArgument:
      return invalidInput(e.message);
    case ErrorCode.AlreadyExists:
    case ErrorCode.FailedPrecondition:
    case ErrorCode.ResourceExhausted:
    case ErrorCode.Aborted:
      return new NeutronHttpError(409, 'Conflict', e.message);
    case ErrorCode.PermissionDenied:
      return new NeutronHttpError(403, 'PolicyNotAuthorized', e.message);
    case ErrorCode.Unavailable:
    case ErrorCode.DeadlineExceeded:
      return serviceUnavailable();
    default:
      return internalError();
  }
}
