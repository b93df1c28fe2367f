/**
 * What the API-boundary attacks share: the hostile control plane
 * (support/control-plane.ts: nats-server with the production users, ipam x2,
 * secgroup, nat and the API as processes), a gRPC client that sends raw
 * bytes to any method (identity serialisers, so nothing is re-encoded on
 * the way), and the event log's last sequence (read as the NATS admin) to
 * prove a refused request wrote nothing.
 */
import { Client, Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { ControlPlane } from '@strata/lab';
import { loadStrataRoot } from '@strata/proto';
import { startHostileControlPlane, type HostileControlPlane } from './support/control-plane.js';

export interface ApiUnderAttack {
  cp: ControlPlane;
  /** Raw bytes to a method path (`/strata.v1.NetworkService/CreateNetwork`) as the admin; server-streaming methods answer with their first message or the status. */
  call(path: string, body: Uint8Array, token?: string): Promise<Outcome>;
  /** The request message type of a method, for encoding well-formed requests. */
  requestType(path: string): protobuf.Type;
  /** The event stream's last sequence. */
  lastSeq(): Promise<number>;
  stop(): Promise<void>;
}

export interface Outcome {
  code: status;
  details: string;
  /** The `strata-field` trailer: the field the API named. */
  field?: string;
  response?: Buffer;
}

/** Every method of strata.v1, from the service definitions (not a hand list). */
export function allMethods(): { path: string; serverStreaming: boolean; type: protobuf.Type }[] {
  const v1 = loadStrataRoot().lookup('strata.v1') as protobuf.Namespace;
  return v1.nestedArray
    .filter((n): n is protobuf.Service => n instanceof protobuf.Service)
    .flatMap((s) =>
      s.methodsArray.map((m) => ({ path: `/strata.v1.${s.name}/${m.name}`, serverStreaming: m.responseStream === true, type: m.resolvedRequestType! })),
    );
}

const identity = (b: Buffer): Buffer => b;

export async function startApiUnderAttack(apiEnv: Record<string, string> = {}): Promise<ApiUnderAttack> {
  let cp: HostileControlPlane | undefined;
  let client: Client | undefined;
  const stop = async (): Promise<void> => {
    client?.close();
    await cp?.destroy();
  };
  try {
    cp = await startHostileControlPlane(['tenant-a'], { apiEnv });
    const plane = cp;
    client = new Client(plane.apiAddr, credentials.createInsecure());
    const c = client;
    const admin = cp.tokens['admin']!;
    const metadataFor = (token: string): Metadata => {
      const md = new Metadata();
      md.set('authorization', `Bearer ${token}`);
      return md;
    };
    const streaming = new Set(allMethods().filter((m) => m.serverStreaming).map((m) => m.path));
    const call = (path: string, body: Uint8Array, token = admin): Promise<Outcome> =>
      new Promise((resolve) => {
        const finish = (err: ServiceError | null, response?: Buffer): void => {
          if (err === null) return resolve({ code: status.OK, details: '', ...(response ? { response } : {}) });
          const field = err.metadata?.get('strata-field')[0];
          resolve({ code: err.code, details: err.details, ...(typeof field === 'string' ? { field } : {}) });
        };
        const deadline = Date.now() + 20_000;
        if (!streaming.has(path)) {
          c.makeUnaryRequest(path, identity, identity, Buffer.from(body), metadataFor(token), { deadline }, (err, res) => finish(err, res));
          return;
        }
        const stream = c.makeServerStreamRequest(path, identity, identity, Buffer.from(body), metadataFor(token), { deadline });
        let settled = false;
        stream.on('data', (res: Buffer) => {
          if (settled) return;
          settled = true;
          stream.cancel();
          finish(null, res);
        });
        stream.on('error', (err: ServiceError) => {
          if (settled) return;
          settled = true;
          finish(err);
        });
        stream.on('end', () => {
          if (!settled) finish(null);
        });
      });
    return {
      cp,
      call,
      requestType: (path) => allMethods().find((m) => m.path === path)!.type,
      lastSeq: () => plane.lastSeq(),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Texts that only come from inside the system; none may reach a client. */
export const INTERNAL_TEXT = /Nats|MAX_PAYLOAD|strata\.(cmd|qry|evt)\.|unknown event type|\bat \S+ \(|Error:|stack/i;
