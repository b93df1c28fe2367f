/**
 * Every service of the API is added through here: its requests are decoded
 * strictly (libs/proto strictService, with the bounds of @strata/contracts)
 * and a request that did not decode is answered INVALID_ARGUMENT, naming the
 * field, before any handler, authentication or NATS request runs. No method
 * can be added without it.
 */
import type { Server, ServiceDefinition, UntypedServiceImplementation, sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { ValidationError } from '@strata/errors';
import { requestListBounds, requestTextBounds } from '@strata/contracts';
import { RejectedRequest, strictService } from '@strata/proto';
import { toServiceError } from './errors.js';
import { logFailure, type RpcDeps } from './rpc.js';

const bounds = { text: requestTextBounds, list: requestListBounds };

type AnyHandler = (...args: never[]) => void;

export function addStrictService(server: Server, deps: RpcDeps, definition: ServiceDefinition, handlers: object): void {
  const strict = strictService(definition, bounds);
  const guarded: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(strict)) {
    const handler = (handlers as Record<string, AnyHandler | undefined>)[name];
    if (handler === undefined) throw new Error(`no handler for ${method.path}`);
    if (method.requestStream) throw new Error(`${method.path}: client-streaming methods are not supported`);
    const refuse = (rejected: RejectedRequest): ReturnType<typeof toServiceError> => {
      const err = new ValidationError(rejected.error.message, { field: rejected.error.field });
      deps.metrics?.observe(name, 'INVALID_ARGUMENT', 0);
      logFailure(deps.logger, name, err);
      return toServiceError(err);
    };
    guarded[name] = method.responseStream
      ? (call: ServerWritableStream<unknown, unknown>) => {
          if (call.request instanceof RejectedRequest) call.emit('error', refuse(call.request));
          else (handler as (c: typeof call) => void)(call);
        }
      : (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
          if (call.request instanceof RejectedRequest) callback(refuse(call.request));
          else (handler as (c: typeof call, cb: typeof callback) => void)(call, callback);
        };
  }
  server.addService(strict, guarded);
}
