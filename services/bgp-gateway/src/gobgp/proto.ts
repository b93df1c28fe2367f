/**
 * gobgpd's gRPC API, loaded at run time from the .proto files Debian's
 * golang-github-osrg-gobgp-dev installs (never copied into this repo).
 * `json: true` makes proto-loader decode `google.protobuf.Any` (NLRI, path
 * attributes) into plain objects with an `@type` key, and protobufjs encodes
 * objects carrying `@type` back into Any: no hand-packing of bytes.
 *
 * The types below describe only the fields Strata uses; gobgpd's messages
 * have many more (all defaulted by `defaults: true`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const DEFAULT_GOBGP_PROTO_DIR = '/usr/share/gocode/src/github.com/osrg/gobgp/api';
const FILES = ['gobgp.proto', 'attribute.proto', 'capability.proto'];

export const V4_UNICAST = { afi: 'AFI_IP', safi: 'SAFI_UNICAST' } as const;
export const V6_UNICAST = { afi: 'AFI_IP6', safi: 'SAFI_UNICAST' } as const;
/** The unicast family of a prefix or address. */
export const unicastFamily = (prefixOrAddress: string): Family => (prefixOrAddress.includes(':') ? V6_UNICAST : V4_UNICAST);
export type Family = { afi: string; safi: string };

/** An Any as proto-loader hands it over with `json: true`. */
export interface AnyMessage {
  '@type': string;
  [field: string]: unknown;
}

export const anyType = (name: string): string => `type.googleapis.com/apipb.${name}`;

export interface ApiPath {
  nlri: AnyMessage | null;
  pattrs: AnyMessage[];
  family?: Family | null;
  is_withdraw?: boolean;
  neighbor_ip?: string;
  filtered?: boolean;
  best?: boolean;
}

export interface ApiPeer {
  conf: { neighbor_address: string; peer_asn: number; auth_password?: string; description?: string } | null;
  state: { session_state: string; neighbor_address: string; admin_state?: string } | null;
  timers?: { state?: { uptime?: { seconds: string | number } | null } | null } | null;
}

export interface ApiGlobal {
  asn: number;
  router_id: string;
  listen_port: number;
  listen_addresses?: string[];
}

export type WatchEvent =
  | { event: 'peer'; peer: { type: string; peer: ApiPeer | null } }
  | { event: 'table'; table: { paths: ApiPath[] } };

/** The generated client, as far as Strata calls it. */
export interface GobgpStub extends grpc.Client {
  GetBgp(req: object, opts: grpc.CallOptions, cb: grpc.requestCallback<{ global: ApiGlobal | null }>): void;
  StartBgp(req: { global: ApiGlobal }, opts: grpc.CallOptions, cb: grpc.requestCallback<object>): void;
  StopBgp(req: object, opts: grpc.CallOptions, cb: grpc.requestCallback<object>): void;
  AddPeer(req: { peer: object }, opts: grpc.CallOptions, cb: grpc.requestCallback<object>): void;
  DeletePeer(req: { address: string }, opts: grpc.CallOptions, cb: grpc.requestCallback<object>): void;
  EnablePeer(req: { address: string }, opts: grpc.CallOptions, cb: grpc.requestCallback<object>): void;
  ResetPeer(req: { address: string; soft: boolean; direction: 'IN' | 'OUT' | 'BOTH' }, opts: grpc.CallOptions, cb: grpc.requestCallback<object>): void;
  ListPeer(req: { address?: string }, opts: grpc.CallOptions): grpc.ClientReadableStream<{ peer: ApiPeer }>;
  SetPolicies(req: object, opts: grpc.CallOptions, cb: grpc.requestCallback<object>): void;
  SetPolicyAssignment(req: { assignment: object }, opts: grpc.CallOptions, cb: grpc.requestCallback<object>): void;
  ListPath(req: object, opts: grpc.CallOptions): grpc.ClientReadableStream<{ destination: { prefix: string; paths: ApiPath[] } }>;
  AddPathStream(opts: grpc.CallOptions, cb: grpc.requestCallback<object>): grpc.ClientWritableStream<AddPathStreamRequest>;
  WatchEvent(req: object, opts?: grpc.CallOptions): grpc.ClientReadableStream<WatchEvent>;
}

export type AddPathStreamRequest = { table_type: string; paths: ApiPath[] };

/** The client constructor, and its service definition: AddPathStream is also called with requests encoded elsewhere (path-encoding.ts). */
type StubConstructor = (new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => GobgpStub) & {
  service: { AddPathStream: grpc.MethodDefinition<AddPathStreamRequest, object> };
};

/** The GobgpApi client constructor; throws a clear error when the .proto files are not installed. */
export function loadGobgpApi(protoDir = DEFAULT_GOBGP_PROTO_DIR): StubConstructor {
  if (!existsSync(join(protoDir, 'gobgp.proto'))) {
    throw new Error(`gobgp .proto files not found in ${protoDir}: install Debian's golang-github-osrg-gobgp-dev or set GOBGP_PROTO_DIR`);
  }
  const def = protoLoader.loadSync(FILES, { includeDirs: [protoDir], keepCase: true, defaults: true, oneofs: true, json: true, longs: String, enums: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { apipb: { GobgpApi: StubConstructor } };
  return pkg.apipb.GobgpApi;
}
