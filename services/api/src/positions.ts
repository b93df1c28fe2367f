/**
 * The log position of a call's own writes, for the client (response
 * metadata `strata-position`). Every command reply of every service already
 * reaches the one ReadYourWrites the api's ContractClients share; this
 * tracker is that same object, and also remembers, per gRPC call, the
 * highest position the call's own commands reported. The call is found
 * through AsyncLocalStorage, so no handler passes anything: a new command
 * RPC gets its position without a line of its own.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Metadata } from '@grpc/grpc-js';
import { ReadYourWrites } from '@strata/runtime';

/** Response metadata key: the log position of the call's events (absent when it wrote none). */
export const POSITION_METADATA_KEY = 'strata-position';

interface CallWrites {
  highest: number | undefined;
}

export class CallPositions extends ReadYourWrites {
  private readonly calls = new AsyncLocalStorage<CallWrites>();

  override observe(seq: number | undefined): void {
    super.observe(seq);
    const call = this.calls.getStore();
    if (call !== undefined && seq !== undefined && seq > (call.highest ?? 0)) call.highest = seq;
  }

  /** Run one call's work; answers its result and the highest position its commands reported (undefined: none). */
  async track<T>(work: () => Promise<T>): Promise<{ result: T; position: number | undefined }> {
    const call: CallWrites = { highest: undefined };
    const result = await this.calls.run(call, work);
    return { result, position: call.highest };
  }
}

/** The response metadata carrying a call's position. */
export function positionMetadata(position: number): Metadata {
  const md = new Metadata();
  md.set(POSITION_METADATA_KEY, String(position));
  return md;
}
