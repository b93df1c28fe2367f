/**
 * Raw gobgpd access for hostile BGP tests: an appliance speaker that can send
 * hundreds of updates a second (gobgpd in the appliance's namespace, driven
 * over its gRPC API), and a watcher of a gateway gobgpd's tables.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { GATEWAY_AS, startProcess, type BgpFabric, type ManagedProcess } from '@strata/lab';
import { loadGobgpApi, type ApiPath, type GobgpStub, type WatchEvent } from '../../../services/bgp-gateway/src/gobgp/proto.js';
import { readPath } from '../../../services/bgp-gateway/src/gobgp/paths.js';

const V4 = { afi: 'AFI_IP', safi: 'SAFI_UNICAST' };
const any = (name: string): string => `type.googleapis.com/apipb.${name}`;
const call = <Res>(f: (cb: grpc.requestCallback<Res>) => void): Promise<Res> => new Promise((ok, ko) => f((err, res) => (err ? ko(err) : ok(res as Res))));

export function gobgpStub(socket: string): GobgpStub {
  const Stub = loadGobgpApi();
  return new Stub(`unix://${socket}`, grpc.credentials.createInsecure());
}

/** An appliance made of gobgpd: peers with the gateways from `address` and announces whatever it is told. */
export class GobgpSpeaker {
  private constructor(
    private readonly process: ManagedProcess,
    readonly stub: GobgpStub,
  ) {}

  static async start(fabric: BgpFabric, role: string, address: string, asn: number, gateways: string[], key: string): Promise<GobgpSpeaker> {
    const subnet = address.split('.')[2];
    await fabric.attach(role, [`${address}/24`], `198.19.${subnet}.1`);
    const socket = join(fabric.dir, `${role}.sock`);
    const p = startProcess(`gobgpd-${role}`, ['ip', 'netns', 'exec', fabric.ns(role), 'gobgpd', '-p', `--api-hosts=unix://${socket}`, '--pprof-disable'], { readyWhen: /gobgpd started/ });
    await p.ready;
    const stub = gobgpStub(socket);
    const opts = (): grpc.CallOptions => ({ deadline: new Date(Date.now() + 10_000) });
    await call((cb) => stub.StartBgp({ global: { asn, router_id: address, listen_port: -1 } }, opts(), cb));
    for (const gw of gateways) {
      const peer = {
        conf: { neighbor_address: gw, peer_asn: GATEWAY_AS, auth_password: key },
        afi_safis: [{ config: { family: V4, enabled: true } }],
        timers: { config: { connect_retry: 2, hold_time: 90, keepalive_interval: 30 } },
        ebgp_multihop: { enabled: true, multihop_ttl: 8 },
      };
      await call((cb) => stub.AddPeer({ peer }, opts(), cb));
    }
    return new GobgpSpeaker(p, stub);
  }

  /** Announce (or withdraw) /32s with a MED, so a re-announcement is a new UPDATE. */
  async send(prefixes: string[], med: number, withdraw = false): Promise<void> {
    const paths: ApiPath[] = prefixes.map((p) => ({
      family: V4,
      nlri: { '@type': any('IPAddressPrefix'), prefix: p.split('/')[0], prefix_len: Number(p.split('/')[1]) },
      pattrs: [
        { '@type': any('OriginAttribute'), origin: 0 },
        { '@type': any('NextHopAttribute'), next_hop: '0.0.0.0' },
        { '@type': any('MultiExitDiscAttribute'), med },
      ],
      is_withdraw: withdraw,
    }));
    await new Promise<void>((ok, ko) => {
      const s = this.stub.AddPathStream({ deadline: new Date(Date.now() + 10_000) }, (err) => (err ? ko(err) : ok()));
      s.write({ table_type: 'GLOBAL', paths });
      s.end();
    });
  }

  async established(): Promise<number> {
    const out: { peer: { state: { session_state: string } | null } }[] = [];
    for await (const r of this.stub.ListPeer({}, { deadline: new Date(Date.now() + 10_000) })) out.push(r as (typeof out)[number]);
    return out.filter((r) => r.peer.state?.session_state === 'ESTABLISHED').length;
  }

  async stop(): Promise<void> {
    this.stub.close();
    await this.process.stop(5_000);
  }
}

/** Every prefix a gobgpd's table showed (WatchEvent, current table first), through `onPrefix`. */
export function watchTable(stub: GobgpStub, type: 'BEST' | 'ADJIN', onPrefix: (prefix: string, withdraw: boolean) => void): grpc.ClientReadableStream<WatchEvent> {
  const stream = stub.WatchEvent({ table: { filters: [{ type, init: true }] } });
  stream.on('data', (ev: WatchEvent) => {
    if (ev.event !== 'table') return;
    for (const p of ev.table.paths) {
      const r = readPath(p);
      if (r) onPrefix(r.prefix, r.withdraw);
    }
  });
  stream.on('error', () => undefined);
  return stream;
}
