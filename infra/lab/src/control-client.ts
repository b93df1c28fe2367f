/**
 * Typed clients of the services' NATS contracts, as the api uses them: tests,
 * benchmarks and the lab drive the cloud with these. One generic client per
 * service; the read-your-writes position is shared, as in the api (the
 * stream sequence is global across services).
 */
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
  type SecgroupCommandInput,
  type SecgroupCommandName,
  type SecgroupQueryInput,
  type SecgroupQueryName,
  type SecgroupResults,
} from '@strata/contracts';
import { NatsRequester, type RequestMeta } from '@strata/runtime';

export interface Principal {
  tenant: string;
  admin: boolean;
  actor?: string;
}

export const ADMIN: Principal = { tenant: 'ops', admin: true, actor: 'admin' };

/** The highest sequence any command wrote: later requests ask for at least that state. */
export class SeqTracker {
  value = 0;
  observe(seq: number | undefined): void {
    if (seq !== undefined && seq > this.value) this.value = seq;
  }
}

/** The request/reply plumbing shared by the typed clients below. */
export class ServiceClient {
  private readonly requester: NatsRequester;

  constructor(
    readonly nc: NatsConnection,
    readonly service: string,
    readonly seq: SeqTracker = new SeqTracker(),
    timeoutMs = 15_000,
  ) {
    this.requester = new NatsRequester(nc, { timeoutMs });
  }

  meta(who: Principal, requestId: string = randomUUID()): RequestMeta {
    return {
      actor: who.actor ?? `${who.tenant}-user`,
      tenant: who.tenant,
      admin: who.admin,
      requestId,
      correlationId: requestId,
      at: new Date().toISOString(),
      ...(this.seq.value > 0 ? { minSeq: this.seq.value } : {}),
    };
  }

  /** The highest stream sequence any command through this tracker wrote. */
  get lastSeq(): number {
    return this.seq.value;
  }

  protected async send<T>(kind: 'cmd' | 'qry', op: string, body: unknown, who: Principal, requestId?: string): Promise<T> {
    const subject = kind === 'cmd' ? commandSubject(this.service, op) : querySubject(this.service, op);
    const r = await this.requester.request<T>(subject, body, this.meta(who, requestId));
    if (kind === 'cmd') this.seq.observe(r.seq);
    return r.result;
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

export class IpamClient extends ServiceClient {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker) {
    super(nc, 'ipam', seq, timeoutMs);
  }

  static async connect(url: string, timeoutMs = 15_000): Promise<IpamClient> {
    return new IpamClient(await connect({ servers: url, name: 'strata-lab-client' }), timeoutMs);
  }

  command<K extends IpamCommandName>(op: K, body: IpamCommandInput<K>, who: Principal = ADMIN, requestId?: string): Promise<IpamResults[K]> {
    return this.send('cmd', op, body, who, requestId);
  }

  query<K extends IpamQueryName>(op: K, body: IpamQueryInput<K>, who: Principal = ADMIN): Promise<IpamResults[K]> {
    return this.send('qry', op, body, who);
  }
}

export class SecgroupClient extends ServiceClient {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker) {
    super(nc, 'secgroup', seq, timeoutMs);
  }

  command<K extends SecgroupCommandName>(op: K, body: SecgroupCommandInput<K>, who: Principal = ADMIN, requestId?: string): Promise<SecgroupResults[K]> {
    return this.send('cmd', op, body, who, requestId);
  }

  query<K extends SecgroupQueryName>(op: K, body: SecgroupQueryInput<K>, who: Principal = ADMIN): Promise<SecgroupResults[K]> {
    return this.send('qry', op, body, who);
  }
}
