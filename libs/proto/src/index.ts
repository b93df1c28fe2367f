/**
 * @strata/proto: the gRPC contract of the Strata API (strata.v1), its
 * generated TypeScript types and a typed loader. Shared by the API server
 * and every client (CLI, tests).
 */
export * from './generated/index.js';
export { PROTO_DIR, STRATA_PROTO_FILE, loadStrataProto, protoLoaderOptions } from './loader.js';
export type { StrataV1 } from './loader.js';
export { MalformedRequestError, strictChecker, type FieldBounds } from './strict-decode.js';
export { RejectedRequest, loadStrataRoot, requestTypeOf, strictService } from './strict-service.js';
export {
  etherTypeFromProto,
  etherTypeToProto,
  functionModeFromProto,
  functionModeToProto,
  gatewayDeviceKindFromProto,
  gatewayDeviceKindToProto,
  groupFallbackFromProto,
  groupFallbackToProto,
  groupSelectionFromProto,
  groupSelectionToProto,
  healthCheckProtocolFromProto,
  healthCheckProtocolToProto,
  poolPurposeFromProto,
  poolPurposeToProto,
  ruleDirectionFromProto,
  ruleDirectionToProto,
  ruleProtocolFromProto,
  ruleProtocolToProto,
  toSafeInteger,
} from './convert.js';
