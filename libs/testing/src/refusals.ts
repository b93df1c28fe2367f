/**
 * The check every "bad input changes nothing" test makes: the command is
 * refused with this code and message, and the event log did not move.
 */
import { expect } from 'vitest';

/** One refusal case: a label, the attempt, the expected code and message (exact text or a pattern). */
export interface Refusal {
  what: string;
  attempt: () => Promise<unknown>;
  code: string;
  message: string | RegExp;
}

/** Run each attempt in turn: each must fail with its code and message and leave the log's last sequence where it was. */
export async function expectRefusedWithoutEvents(log: { lastSeq(): Promise<number> }, refusals: Iterable<Refusal>): Promise<void> {
  for (const { what, attempt, code, message } of refusals) {
    const before = await log.lastSeq();
    const err = await attempt().then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err, `${what} should be refused`).toBeDefined();
    expect(err!.code, what).toBe(code);
    if (typeof message === 'string') expect(err!.message, what).toBe(message);
    else expect(err!.message, what).toMatch(message);
    expect(await log.lastSeq(), `${what} wrote an event`).toBe(before);
  }
}
