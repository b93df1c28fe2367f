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
  type BgpCommandInput,
  type BgpCommandName,
  type BgpQueryInput,
  type BgpQueryName,
  type BgpResults,
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
import { commandSignerFrom, NatsRequester, type CommandSigner, type RequestMeta } from '@strata/runtime';
import type { NatCommandInput, NatCommandName, NatQueryInput, NatQueryName, NatResults } from '@strata/contracts';

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
    /** Services refuse unsigned requests; default: STRATA_COMMAND_SIGNING_KEY of this process. */
    signer: CommandSigner = commandSignerFrom(),
  ) {
    this.requester = new NatsRequester(nc, { timeoutMs, signer });
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

/** A service contract as types: each operation's request (as callers write it) and result. */
export interface ContractTypes {
  commands: object;
  queries: object;
  results: object;
}

/** A typed client of any service's contract, so a new service needs only its type map, not another copy of command/query. */
export class ContractClient<T extends ContractTypes> extends ServiceClient {
  command<K extends keyof T['commands'] & keyof T['results'] & string>(op: K, body: T['commands'][K], who: Principal = ADMIN, requestId?: string): Promise<T['results'][K]> {
    return this.send('cmd', op, body, who, requestId);
  }

  query<K extends keyof T['queries'] & keyof T['results'] & string>(op: K, body: T['queries'][K], who: Principal = ADMIN): Promise<T['results'][K]> {
    return this.send('qry', op, body, who);
  }
}

export interface IpamContract {
  commands: { [K in IpamCommandName]: IpamCommandInput<K> };
  queries: { [K in IpamQueryName]: IpamQueryInput<K> };
  results: IpamResults;
}

export interface SecgroupContract {
  commands: { [K in SecgroupCommandName]: SecgroupCommandInput<K> };
  queries: { [K in SecgroupQueryName]: SecgroupQueryInput<K> };
  results: SecgroupResults;
}

export interface BgpContract {
  commands: { [K in BgpCommandName]: BgpCommandInput<K> };
  queries: { [K in BgpQueryName]: BgpQueryInput<K> };
  results: BgpResults;
}

export class IpamClient extends ContractClient<IpamContract> {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker, signer?: CommandSigner) {
    super(nc, 'ipam', seq, timeoutMs, signer);
  }

  static async connect(url: string, timeoutMs = 15_000): Promise<IpamClient> {
    return new IpamClient(await connect({ servers: url, name: 'strata-lab-client' }), timeoutMs);
  }
}

export class SecgroupClient extends ContractClient<SecgroupContract> {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker, signer?: CommandSigner) {
    super(nc, 'secgroup', seq, timeoutMs, signer);
  }
}

export class BgpClient extends ContractClient<BgpContract> {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker, signer?: CommandSigner) {
    super(nc, 'bgp', seq, timeoutMs, signer);
  }
}

export interface NatContract {
  commands: { [K in NatCommandName]: NatCommandInput<K> };
  queries: { [K in NatQueryName]: NatQueryInput<K> };
  results: NatResults;
}

/** The NAT service: floating IP associations and router gateways. */
export class NatClient extends ContractClient<NatContract> {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker, signer?: CommandSigner) {
    super(nc, 'nat', seq, timeoutMs, signer);
  }

  static async connect(url: string, timeoutMs = 15_000): Promise<NatClient> {
    return new NatClient(await connect({ servers: url, name: 'strata-lab-nat-client' }), timeoutMs);
  }
}
