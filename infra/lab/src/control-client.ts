/**
 * The services' NATS contracts as tests, benchmarks and the lab drive them:
 * the runtime's ContractClient, with the caller named as a Principal (a
 * tenant user or ADMIN) instead of a full RequestMeta. One read-your-writes
 * position is shared by the clients of all services, as in the api (the
 * stream sequence is global across services).
 */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import {
  bgpContract,
  ipamContract,
  natContract,
  chainingContract,
  secgroupContract,
  statusContract,
  auditContract,
  type CommandInput,
  type CommandName,
  type CommandReply,
  type Contract,
  type QueryInput,
  type QueryName,
  type QueryReply,
} from '@strata/contracts';
import { commandSignerFrom, ContractClient, NatsRequester, ReadYourWrites, type CommandSigner, type RequestMeta } from '@strata/runtime';

export interface Principal {
  tenant: string;
  admin: boolean;
  actor?: string;
}

export const ADMIN: Principal = { tenant: 'ops', admin: true, actor: 'admin' };

/** The highest sequence any command wrote: later requests ask for at least that state. */
export class SeqTracker extends ReadYourWrites {
  get value(): number {
    return this.minSeq() ?? 0;
  }
}

/** A client of one service's contract for callers named by Principal; `seq` may be shared with other services' clients. */
export class LabClient<C extends Contract> {
  private readonly client: ContractClient<C>;

  constructor(
    contract: C,
    readonly nc: NatsConnection,
    readonly seq: SeqTracker = new SeqTracker(),
    timeoutMs = 15_000,
    /** Services refuse unsigned requests; default: STRATA_COMMAND_SIGNING_KEY of this process. */
    signer: CommandSigner = commandSignerFrom(),
  ) {
    // Every reply is checked against the contract: a service answering off-contract fails the test that saw it.
    this.client = new ContractClient(contract, new NatsRequester(nc, { timeoutMs, signer }), seq, { checkReplies: true });
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

  /** Read-your-writes across services: later requests wait until the service has applied `seq` (e.g. another service's write). */
  observe(seq: number | undefined): void {
    this.seq.observe(seq);
  }

  command<K extends CommandName<C>>(op: K, body: CommandInput<C, K>, who: Principal = ADMIN, requestId?: string): Promise<CommandReply<C, K>> {
    return this.client.command(op, body, this.meta(who, requestId));
  }

  query<K extends QueryName<C>>(op: K, body: QueryInput<C, K>, who: Principal = ADMIN): Promise<QueryReply<C, K>> {
    return this.client.query(op, body, this.meta(who));
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

/** IPAM; `connect` opens its own connection (benchmarks, the compose lab). */
export class IpamClient extends LabClient<typeof ipamContract> {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker, signer?: CommandSigner) {
    super(ipamContract, nc, seq, timeoutMs, signer);
  }

  static async connect(url: string, timeoutMs = 15_000): Promise<IpamClient> {
    return new IpamClient(await connect({ servers: url, name: 'strata-lab-client' }), timeoutMs);
  }
}

export class SecgroupClient extends LabClient<typeof secgroupContract> {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker, signer?: CommandSigner) {
    super(secgroupContract, nc, seq, timeoutMs, signer);
  }
}

export class BgpClient extends LabClient<typeof bgpContract> {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker, signer?: CommandSigner) {
    super(bgpContract, nc, seq, timeoutMs, signer);
  }
}

/** The status service: ports' status, realisation, the barrier, hypervisors' agents (queries only). */
export class StatusClient extends LabClient<typeof statusContract> {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker, signer?: CommandSigner) {
    super(statusContract, nc, seq, timeoutMs, signer);
  }
}

/** The audit service: where a resource's history lives, points in the log, hosts at a point (queries only). */
export class AuditClient extends LabClient<typeof auditContract> {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker, signer?: CommandSigner) {
    super(auditContract, nc, seq, timeoutMs, signer);
  }
}

/** The service-chaining service: functions, groups, classifiers, chains. */
export class ChainingClient extends LabClient<typeof chainingContract> {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker, signer?: CommandSigner) {
    super(chainingContract, nc, seq, timeoutMs, signer);
  }
}

/** The NAT service: floating IP associations and router gateways. */
export class NatClient extends LabClient<typeof natContract> {
  constructor(nc: NatsConnection, timeoutMs = 15_000, seq?: SeqTracker, signer?: CommandSigner) {
    super(natContract, nc, seq, timeoutMs, signer);
  }

  static async connect(url: string, timeoutMs = 15_000): Promise<NatClient> {
    return new NatClient(await connect({ servers: url, name: 'strata-lab-nat-client' }), timeoutMs);
  }
}
