/** A typed client of the services' NATS contracts, as the api uses them (tests and the lab drive the cloud with it). */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import {
  commandSubject,
  querySubject,
  type IpamCommandInput,
  type IpamCommandName,
  type IpamQueryInput,
  type IpamQueryName,
  type IpamResults,
} from '@strata/contracts';
import { NatsRequester, type RequestMeta } from '@strata/runtime';

export interface Principal {
  tenant: string;
  admin: boolean;
  actor?: string;
}

export const ADMIN: Principal = { tenant: 'ops', admin: true, actor: 'admin' };

export class IpamClient {
  private readonly requester: NatsRequester;
  private minSeq = 0;

  constructor(
    readonly nc: NatsConnection,
    timeoutMs = 15_000,
  ) {
    this.requester = new NatsRequester(nc, { timeoutMs });
  }

  static async connect(url: string, timeoutMs = 15_000): Promise<IpamClient> {
    return new IpamClient(await connect({ servers: url, name: 'strata-lab-client' }), timeoutMs);
  }

  meta(who: Principal, requestId: string = randomUUID()): RequestMeta {
    return {
      actor: who.actor ?? `${who.tenant}-user`,
      tenant: who.tenant,
      admin: who.admin,
      requestId,
      correlationId: requestId,
      at: new Date().toISOString(),
      ...(this.minSeq > 0 ? { minSeq: this.minSeq } : {}),
    };
  }

  /** The highest stream sequence any of this client's commands wrote. */
  get lastSeq(): number {
    return this.minSeq;
  }

  async command<K extends IpamCommandName>(op: K, body: IpamCommandInput<K>, who: Principal = ADMIN, requestId?: string): Promise<IpamResults[K]> {
    const r = await this.requester.request<IpamResults[K]>(commandSubject('ipam', op), body, this.meta(who, requestId));
    if (r.seq !== undefined && r.seq > this.minSeq) this.minSeq = r.seq;
    return r.result;
  }

  async query<K extends IpamQueryName>(op: K, body: IpamQueryInput<K>, who: Principal = ADMIN): Promise<IpamResults[K]> {
    return (await this.requester.request<IpamResults[K]>(querySubject('ipam', op), body, this.meta(who))).result;
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }
}
