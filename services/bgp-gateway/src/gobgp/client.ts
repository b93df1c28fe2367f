/**
 * The one place that talks to gobgpd: promise-shaped calls over its gRPC API
 * (Cilium's lesson: the engine is confined to one adapter). gobgpd serves
 * its API on a Unix socket in deployments and tests alike (`--api-hosts
 * unix:///run/strata/gobgp.sock`): the BGP sessions live in gobgpd's network
 * namespace, and the socket reaches the gateway through the file system
 * without opening any TCP port.
 */
import * as grpc from '@grpc/grpc-js';
import { loadGobgpApi, V4_UNICAST, V6_UNICAST, type AddPathStreamRequest, type ApiGlobal, type Family, type ApiPath, type ApiPeer, type GobgpStub, type WatchEvent } from './proto.js';
import { Ipv6NextHops } from './next-hop6.js';
import { isOriginated, readPath, STRATA_COMMUNITY, type ReadPath } from './paths.js';
import { UnicastPathEncoder } from './path-encoding.js';
import type { EvpnAdvertisement, EvpnRoute, RouteTarget } from '../domain/evpn.js';
import { evpnPath, L2VPN_EVPN, readEvpnPath, type ReadEvpnPath } from './evpn.js';

export interface GobgpClientOptions {
  /** grpc-js target, e.g. `unix:///run/strata/gobgp.sock` or `127.0.0.1:50051`. */
  target: string;
  protoDir?: string;
  /** Deadline of unary calls. */
  timeoutMs?: number;
  /** How IPv6 routes' next hops encode the IPv4 VTEP (next-hop6.ts); default IPv4-mapped. */
  ipv6NextHops?: Ipv6NextHops;
}

/** Paths per AddPathStream message: ~1,000 was measured fastest here (docs/performance.md). */
export const PATHS_PER_MESSAGE = 1000;

export class GobgpClient {
  private readonly stub: GobgpStub;
  private readonly addPathMethod: grpc.MethodDefinition<AddPathStreamRequest, object>;
  private readonly timeoutMs: number;
  private readonly nh6: Ipv6NextHops;
  private readonly encoder = new UnicastPathEncoder();

  constructor(options: GobgpClientOptions) {
    const Stub = loadGobgpApi(options.protoDir);
    this.stub = new Stub(options.target, grpc.credentials.createInsecure());
    this.addPathMethod = Stub.service.AddPathStream;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.nh6 = options.ipv6NextHops ?? Ipv6NextHops.parse(undefined);
  }

  private opts(): grpc.CallOptions {
    return { deadline: new Date(Date.now() + this.timeoutMs) };
  }

  private unary<Req, Res>(method: (req: Req, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => void, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => method.call(this.stub, req, this.opts(), (err, res) => (err ? reject(err) : resolve(res as Res))));
  }

  private async collect<T>(stream: grpc.ClientReadableStream<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const item of stream) out.push(item as T);
    return out;
  }

  /** The running global config; asn 0 means gobgpd has not been started (a fresh or restarted process). */
  async getGlobal(): Promise<ApiGlobal> {
    const r = await this.unary(this.stub.GetBgp, {});
    return r.global ?? { asn: 0, router_id: '', listen_port: 0 };
  }

  startBgp(global: ApiGlobal): Promise<object> {
    return this.unary(this.stub.StartBgp, { global });
  }

  stopBgp(): Promise<object> {
    return this.unary(this.stub.StopBgp, {});
  }

  addPeer(peer: object): Promise<object> {
    return this.unary(this.stub.AddPeer, { peer });
  }

  deletePeer(address: string): Promise<object> {
    return this.unary(this.stub.DeletePeer, { address });
  }

  /** Let a peer the engine stopped (admin down, or Idle(PfxCt) at its prefix limit) connect again. */
  enablePeer(address: string): Promise<object> {
    return this.unary(this.stub.EnablePeer, { address });
  }

  /**
   * Apply a changed export policy to a live session: gobgpd applies it only
   * to routes that change afterwards. `soft` (soft reset out) sends what the
   * policy now accepts, with the session up, but withdraws nothing the
   * policy now refuses (gobgpd 3.10, server.go softResetOut); taking routes
   * away needs the session reset (`soft` false), after which the peer gets
   * only what the policy accepts.
   */
  resetPeer(address: string, soft: boolean): Promise<object> {
    return this.unary(this.stub.ResetPeer, { address, soft, direction: 'OUT' });
  }

  async listPeers(): Promise<ApiPeer[]> {
    return (await this.collect(this.stub.ListPeer({}, this.opts()))).map((r) => r.peer);
  }

  /**
   * Replace defined sets and policies, then the global import/export
   * assignments. Two steps because SetPolicies keeps the current assignments
   * (it ignores the request's), verified on gobgpd 3.10.
   */
  async setPolicies(p: { defined_sets: object[]; policies: object[]; assignments: object[] }): Promise<void> {
    await this.unary(this.stub.SetPolicies, { defined_sets: p.defined_sets, policies: p.policies });
    for (const assignment of p.assignments) await this.unary(this.stub.SetPolicyAssignment, { assignment });
  }

  /** Paths of a table: GLOBAL (the best and other paths) or one peer's ADJ_IN (with policy-filtered ones). */
  async listPaths(table: 'GLOBAL' | 'ADJ_IN', name = '', family: Family = V4_UNICAST): Promise<ReadPath[]> {
    const req = { table_type: table, name, family, enable_filtered: table === 'ADJ_IN' };
    const out: ReadPath[] = [];
    for (const r of await this.collect(this.stub.ListPath(req, { deadline: new Date(Date.now() + 6 * this.timeoutMs) }))) {
      for (const p of r.destination.paths) {
        const read = readPath(p);
        if (read) out.push(read);
      }
    }
    return out;
  }

  /** prefix → next hop of every path Strata originated. */
  async originated(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const family of [V4_UNICAST, V6_UNICAST]) {
      for (const p of await this.listPaths('GLOBAL', '', family)) if (isOriginated(p)) out.set(p.prefix, family === V6_UNICAST ? this.nh6.decode(p.nextHop) : p.nextHop);
    }
    return out;
  }

  /**
   * Add and withdraw originated paths (`originatedPath`'s content) over one AddPathStream,
   * PATHS_PER_MESSAGE per message, withdrawals first; encoded by path-encoding.ts.
   */
  async applyPaths(add: readonly { prefix: string; nextHop: string }[], withdraw: readonly { prefix: string; nextHop: string }[]): Promise<void> {
    const nh = (prefix: string, vtep: string): string => (prefix.includes(':') ? this.nh6.encode(vtep) : vtep);
    const changes = [...withdraw.map((w) => ({ prefix: w.prefix, nextHop: nh(w.prefix, w.nextHop), withdraw: true })), ...add.map((a) => ({ prefix: a.prefix, nextHop: nh(a.prefix, a.nextHop), withdraw: false }))];
    const requests: Buffer[] = [];
    for (let i = 0; i < changes.length; i += PATHS_PER_MESSAGE) requests.push(this.encoder.request(changes.slice(i, i + PATHS_PER_MESSAGE)));
    await this.addPathStream(requests, (b) => b);
  }

  /** Every EVPN path Strata originated (added over the API, with its community). */
  async evpnOriginated(): Promise<ReadEvpnPath[]> {
    return (await this.evpnPaths('GLOBAL')).filter((p) => p.peer === '' && p.communities.includes(STRATA_COMMUNITY));
  }

  /** The type-2/3 paths of a table: GLOBAL, or one peer's ADJ_IN (`name`: its address; with policy-filtered ones). */
  async evpnPaths(table: 'GLOBAL' | 'ADJ_IN', name = ''): Promise<ReadEvpnPath[]> {
    const req = { table_type: table, name, family: L2VPN_EVPN, enable_filtered: table === 'ADJ_IN' };
    const out: ReadEvpnPath[] = [];
    for (const r of await this.collect(this.stub.ListPath(req, { deadline: new Date(Date.now() + 6 * this.timeoutMs) }))) {
      for (const p of r.destination.paths) {
        const read = readEvpnPath(p);
        if (read) out.push(read);
      }
    }
    return out;
  }

  /** Add and withdraw EVPN paths over one AddPathStream (withdrawals first). */
  async applyEvpnPaths(add: readonly EvpnAdvertisement[], withdraw: readonly EvpnRoute[]): Promise<void> {
    await this.streamPaths([...withdraw.map((r) => evpnPath(r, [], true)), ...add.map((a) => evpnPath(a.route, a.routeTargets, false, a.communities, a.largeCommunities))]);
  }

  private async streamPaths(paths: ApiPath[]): Promise<void> {
    const requests: AddPathStreamRequest[] = [];
    for (let i = 0; i < paths.length; i += PATHS_PER_MESSAGE) requests.push({ table_type: 'GLOBAL', paths: paths.slice(i, i + PATHS_PER_MESSAGE) });
    await this.addPathStream(requests, this.addPathMethod.requestSerialize);
  }

  /** One AddPathStream call sending `requests`, each encoded by `serialize`; resolves when gobgpd has taken them all. */
  private async addPathStream<R>(requests: readonly R[], serialize: (r: R) => Buffer): Promise<void> {
    if (requests.length === 0) return;
    await new Promise<void>((resolve, reject) => {
      const call = this.stub.makeClientStreamRequest(this.addPathMethod.path, serialize, this.addPathMethod.responseDeserialize, { deadline: new Date(Date.now() + 6 * this.timeoutMs) }, (err) => (err ? reject(err) : resolve()));
      for (const r of requests) call.write(r);
      call.end();
    });
  }

  /** Peer state changes and pre-policy Adj-RIB-In updates (with the current tables first). The stream ends when gobgpd goes away. */
  watch(): grpc.ClientReadableStream<WatchEvent> {
    return this.stub.WatchEvent({ peer: {}, table: { filters: [{ type: 'ADJIN', init: true }] } });
  }

  close(): void {
    this.stub.close();
  }
}
