/**
 * The reader role may only read. Which RPCs write is not listed anywhere
 * here: every write the API performs is a contract command (the contracts
 * separate commands from queries, and their subjects say which is which),
 * sent through the one requester the API's contract clients share. That
 * requester refuses any command made during a reader's call, before it is
 * sent — so a write RPC answers PERMISSION_DENIED and nothing is written,
 * and a new write RPC is covered without a line of its own.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Contract } from '@strata/contracts';
import { PermissionDeniedError } from '@strata/errors';
import type { NatsRequester, RequestMeta, RequestResult, RequesterOptions } from '@strata/runtime';
import type { Principal } from './auth.js';

interface Caller {
  rpc: string;
  principal: Principal;
}

/** The caller of the gRPC call in progress (found through AsyncLocalStorage, like CallPositions). */
export class CallCallers {
  private readonly calls = new AsyncLocalStorage<Caller>();

  run<T>(caller: Caller, work: () => Promise<T>): Promise<T> {
    return this.calls.run(caller, work);
  }

  current(): Caller | undefined {
    return this.calls.getStore();
  }
}

/** The subjects of every command of `contracts`. */
export function commandSubjects(contracts: readonly Contract[]): ReadonlySet<string> {
  return new Set(contracts.flatMap((c) => Object.values(c.commands).map((op) => op.subject)));
}

type Requester = Pick<NatsRequester, 'request'>;

/** A requester that refuses every command subject while a reader's call is in progress, and passes everything else on. */
export class ReaderGuardedRequester implements Requester {
  constructor(
    private readonly requester: Requester,
    private readonly commands: ReadonlySet<string>,
    private readonly callers: CallCallers,
  ) {}

  request<T>(subject: string, body: unknown, meta: RequestMeta, options?: Partial<RequesterOptions>): Promise<RequestResult<T>> {
    const caller = this.callers.current();
    if (caller !== undefined && caller.principal.role === 'reader' && this.commands.has(subject)) {
      return Promise.reject(
        new PermissionDeniedError(`${caller.rpc} writes, and ${caller.principal.name} has the reader role on tenant ${caller.principal.tenant}: a reader may only read`),
      );
    }
    return this.requester.request<T>(subject, body, meta, options);
  }
}
