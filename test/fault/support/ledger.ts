/**
 * The ledger of a load: every command a client sent, what became of it
 * (acknowledged, or failed with a gRPC code after the client gave up
 * retrying), and the figures a fault is judged by. A command is one request
 * id however many times it was re-sent.
 */

export type Outcome = 'sent' | 'acknowledged' | 'failed';

export interface LedgerEntry {
  requestId: string;
  /** What the command does, e.g. `port.create`. */
  op: string;
  outcome: Outcome;
  /** Sends of this request id (1 + retries). */
  attempts: number;
  /** The gRPC status name it finally failed with. */
  code?: string;
  /** The log position its acknowledgement carried (response metadata `strata-position`). */
  position?: number;
  /** The id of the resource the acknowledgement named. */
  resourceId?: string;
}

export interface LedgerFigures {
  sent: number;
  acknowledged: number;
  /** Failed commands by gRPC status name. */
  failed: Record<string, number>;
  /** Sends beyond the first (retries with the same request id). */
  retries: number;
}

export class Ledger {
  private readonly entries = new Map<string, LedgerEntry>();

  sent(requestId: string, op: string): LedgerEntry {
    const entry: LedgerEntry = { requestId, op, outcome: 'sent', attempts: 0 };
    this.entries.set(requestId, entry);
    return entry;
  }

  all(): LedgerEntry[] {
    return [...this.entries.values()];
  }

  acknowledged(): LedgerEntry[] {
    return this.all().filter((e) => e.outcome === 'acknowledged');
  }

  /** Commands still without an outcome (in flight). */
  pending(): number {
    return this.all().filter((e) => e.outcome === 'sent').length;
  }

  figures(): LedgerFigures {
    const failed: Record<string, number> = {};
    let retries = 0;
    for (const e of this.entries.values()) {
      retries += Math.max(0, e.attempts - 1);
      if (e.outcome === 'failed') failed[e.code ?? 'UNKNOWN'] = (failed[e.code ?? 'UNKNOWN'] ?? 0) + 1;
    }
    return { sent: this.entries.size, acknowledged: this.acknowledged().length, failed, retries };
  }
}
