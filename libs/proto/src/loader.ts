import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/strata.js';

/**
 * Directory holding `strata/v1/*.proto`, resolved from this module (src/ or
 * dist/ alike) so the API and CLI find it whatever their working directory.
 */
export const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));

/** The entry file; it imports every other file of the API. */
export const STRATA_PROTO_FILE = 'strata/v1/strata.proto';

/**
 * Must match the flags in scripts/gen.mjs. camelCase fields (keepCase
 * false) line up with @strata/contracts' views; 64-bit integers arrive as
 * decimal strings so nothing is silently rounded (convert with toSafeInteger).
 */
export const protoLoaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

/** The `strata.v1` package: service constructors (clients) and their `.service` definitions. */
export type StrataV1 = ProtoGrpcType['strata']['v1'];

let loaded: ProtoGrpcType | undefined;

/** The typed package definition. Parsing the .proto files is costly, so it is done once per process. */
export function loadStrataProto(): ProtoGrpcType {
  loaded ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(STRATA_PROTO_FILE, protoLoaderOptions),
  ) as unknown as ProtoGrpcType;
  return loaded;
}
