/**
 * Puts the strict decoder (strict-decode.ts) into the deserialisation path
 * of every method of a gRPC service definition: the one place where every
 * request of the API is checked, whatever the method.
 *
 * grpc-js answers INTERNAL when a deserialiser throws, so a refused request
 * is not thrown: it is delivered as a `RejectedRequest`, and the server's
 * handler wrapper answers it with INVALID_ARGUMENT before any handler runs.
 */
import { join } from 'node:path';
import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { PROTO_DIR, STRATA_PROTO_FILE, protoLoaderOptions } from './loader.js';
import { MalformedRequestError, strictChecker, type FieldBounds } from './strict-decode.js';

/** What a method's handler receives instead of its request when the bytes did not decode strictly. */
export class RejectedRequest {
  constructor(readonly error: MalformedRequestError) {}
}

let root: protobuf.Root | undefined;

/** The strata.v1 protobuf reflection (the same files and field naming as the loader's). */
export function loadStrataRoot(): protobuf.Root {
  if (root === undefined) {
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => join(PROTO_DIR, target);
    r.loadSync(STRATA_PROTO_FILE, { keepCase: protoLoaderOptions.keepCase ?? false });
    r.resolveAll();
    root = r;
  }
  return root;
}

/** The request message type of a method, from its path `/strata.v1.NetworkService/CreateNetwork`. */
export function requestTypeOf(path: string): protobuf.Type {
  const [, service, method] = /^\/([^/]+)\/([^/]+)$/.exec(path) ?? [];
  const m = service === undefined || method === undefined ? undefined : loadStrataRoot().lookupService(service).methods[method];
  if (m?.resolvedRequestType == null) throw new Error(`no method for gRPC path ${path}`);
  return m.resolvedRequestType;
}

/**
 * The same service with every method's request deserialiser checking the
 * bytes strictly first (bounds included). Throws at setup if a request
 * field has no bound.
 */
export function strictService<S extends ServiceDefinition>(service: S, bounds: FieldBounds): S {
  const strict: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service)) {
    const check = strictChecker(requestTypeOf(method.path), bounds);
    const lenient = method.requestDeserialize;
    strict[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          check(bytes);
        } catch (e) {
          if (e instanceof MalformedRequestError) return new RejectedRequest(e);
          throw e;
        }
        return lenient(bytes);
      },
    };
  }
  return strict as S;
}
