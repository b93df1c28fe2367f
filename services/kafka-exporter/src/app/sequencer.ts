/**
 * Puts the deliveries of the durable consumer back into log order, so the
 * exporter produces every position exactly in order, whatever JetStream
 * redelivers when.
 *
 * Why it is needed: JetStream delivers new messages in order, but a message
 * that was delivered and not acknowledged (the previous process was killed
 * after pulling it, or the connection dropped) comes back only when its ack
 * wait runs out, while newer messages may be delivered before it. Producing
 * in delivery order would then put a later event of an aggregate ahead of an
 * earlier one that was never produced. So the exporter starts at the first
 * position not yet acknowledged (the consumer's ack floor + 1) and produces
 * position `next` only; anything delivered ahead of it waits here (at most
 * max_ack_pending messages: the server delivers no more unacknowledged ones).
 *
 * The positions of the consumer are contiguous: its filter is the whole
 * stream, and the domain stream refuses deletes and purges. Should a position
 * be missing all the same, the exporter asks the stream, and `skipMissing`
 * moves past it only when the stream says it does not exist.
 *
 * State: positions <= `produced` are in Kafka (and acknowledged, or being);
 * `produced` < p < `next` are taken (being produced); p >= `next` wait.
 */
export type Offer = 'ack' | 'copy' | 'kept';

export class Sequencer<M> {
  private producedUpTo: number;
  private nextUp: number;
  private readonly waiting = new Map<number, M>();

  /** `first`: the first position not yet acknowledged. */
  constructor(first: number) {
    if (!Number.isInteger(first) || first < 1) throw new Error(`sequencer: first position must be a positive integer, got ${first}`);
    this.producedUpTo = first - 1;
    this.nextUp = first;
  }

  /**
   * A delivery at position `seq`:
   * - 'ack': already produced by this process; acknowledge it again and drop it
   *   (a redelivery after the ack wait, or of an ack that was lost);
   * - 'copy': a copy of a position being produced right now; drop it, the one
   *   in hand is acknowledged once produced;
   * - 'kept': waits for its turn (a later copy replaces an earlier one).
   */
  offer(seq: number, message: M): Offer {
    if (seq <= this.producedUpTo) return 'ack';
    if (seq < this.nextUp) return 'copy';
    this.waiting.set(seq, message);
    return 'kept';
  }

  /** Up to `max` messages at consecutive positions from `next` on, now being produced. */
  take(max: number): Array<{ seq: number; message: M }> {
    const out: Array<{ seq: number; message: M }> = [];
    while (out.length < max) {
      const message = this.waiting.get(this.nextUp);
      if (message === undefined) break;
      this.waiting.delete(this.nextUp);
      out.push({ seq: this.nextUp, message });
      this.nextUp++;
    }
    return out;
  }

  /** Everything taken up to `seq` is in Kafka. */
  produced(seq: number): void {
    if (seq < this.producedUpTo || seq >= this.nextUp) throw new Error(`sequencer: produced(${seq}) outside the taken range (${this.producedUpTo}, ${this.nextUp})`);
    this.producedUpTo = seq;
  }

  /** The position `next` does not exist in the stream: move past it (only when nothing is being produced). */
  skipMissing(seq: number): void {
    if (seq !== this.nextUp || this.producedUpTo !== seq - 1 || this.waiting.has(seq)) throw new Error(`sequencer: cannot skip ${seq} (next ${this.nextUp}, produced ${this.producedUpTo})`);
    this.producedUpTo = seq;
    this.nextUp = seq + 1;
  }

  /** The position everything waiting waits for, if something waits and it is not there. */
  get blockedOn(): number | undefined {
    return this.waiting.size > 0 && !this.waiting.has(this.nextUp) ? this.nextUp : undefined;
  }

  get next(): number {
    return this.nextUp;
  }

  get lastProduced(): number {
    return this.producedUpTo;
  }

  get waitingCount(): number {
    return this.waiting.size;
  }
}
