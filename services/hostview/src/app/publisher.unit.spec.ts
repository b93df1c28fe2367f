/** The write queue against a fake bucket: coalescing, batch order, retries. */
import { describe, expect, it } from 'vitest';
import type { KV } from 'nats';
import { KvPublisher } from './publisher.js';

/** A bucket whose writes complete when the test says so, and may fail. */
class FakeKv {
  readonly calls: string[] = [];
  readonly inFlight: Array<{ call: string; settle: (ok: boolean) => void }> = [];
  manual = false;
  failNext = 0;
  maxConcurrent = 0;

  put(key: string, value: Uint8Array): Promise<number> {
    return this.write(`put ${key}=${new TextDecoder().decode(value)}`);
  }
  delete(key: string): Promise<void> {
    return this.write(`del ${key}`).then(() => undefined);
  }
  private write(call: string): Promise<number> {
    this.calls.push(call);
    if (this.failNext > 0) {
      this.failNext -= 1;
      return Promise.reject(new Error('no responders'));
    }
    if (!this.manual) return Promise.resolve(1);
    return new Promise((resolve, reject) => {
      this.inFlight.push({ call, settle: (ok) => (ok ? resolve(1) : reject(new Error('timeout'))) });
      this.maxConcurrent = Math.max(this.maxConcurrent, this.inFlight.length);
    });
  }
  ackAll(): void {
    for (const w of this.inFlight.splice(0)) w.settle(true);
  }
}

const publisher = (fake: FakeKv, concurrency = 8) => new KvPublisher(fake as unknown as KV, { concurrency, retryDelayMs: 1, maxRetryDelayMs: 2 });

describe('KvPublisher', () => {
  it('coalesces queued writes per key and orders a batch for agents', async () => {
    const fake = new FakeKv();
    const p = publisher(fake);
    p.pause();
    p.enqueue([
      { op: 'put', key: 'h.ep.1', value: 'a' },
      { op: 'put', key: 'h.net.n', value: 'n' },
      { op: 'delete', key: 'h.port.2' },
      { op: 'put', key: 'h.ep.1', value: 'b' },
      { op: 'delete', key: 'h.domain.d' },
    ]);
    p.resume();
    await p.idle();
    expect(fake.calls).toEqual(['put h.net.n=n', 'put h.ep.1=b', 'del h.port.2', 'del h.domain.d']);
  });

  it('never has two writes of one key in flight: a batch starts when the previous one is acknowledged', async () => {
    const fake = new FakeKv();
    fake.manual = true;
    const p = publisher(fake, 2);
    p.enqueue([{ op: 'put', key: 'k', value: '1' }, { op: 'put', key: 'x', value: '1' }, { op: 'put', key: 'y', value: '1' }]);
    expect(fake.inFlight.map((w) => w.call)).toEqual(['put k=1', 'put x=1']); // bounded concurrency
    p.enqueue([{ op: 'put', key: 'k', value: '2' }]);
    p.enqueue([{ op: 'put', key: 'k', value: '3' }]);
    fake.ackAll();
    await Promise.resolve();
    while (fake.inFlight.length > 0 || p.backlog > 0) {
      fake.ackAll();
      await new Promise((r) => setImmediate(r));
    }
    await p.idle();
    expect(fake.calls).toEqual(['put k=1', 'put x=1', 'put y=1', 'put k=3']);
    expect(fake.maxConcurrent).toBe(2);
  });

  it('retries failed writes until they succeed, unless a newer write of the key came meanwhile', async () => {
    const fake = new FakeKv();
    const p = publisher(fake);
    fake.failNext = 2;
    p.enqueue([{ op: 'put', key: 'a', value: '1' }, { op: 'put', key: 'b', value: '1' }]); // this batch fails
    p.enqueue([{ op: 'delete', key: 'b' }]); // queued while it is in flight: newer than the failed b=1
    await p.idle();
    expect(p.healthy).toBe(true);
    expect(fake.calls).toEqual(['put a=1', 'put b=1', 'put a=1', 'del b']);
  });

  it('close() drops what is queued and stops retrying', async () => {
    const fake = new FakeKv();
    const p = publisher(fake);
    p.pause();
    p.enqueue([{ op: 'put', key: 'a', value: '1' }]);
    await p.close();
    await p.idle();
    p.resume();
    expect(fake.calls).toEqual([]);
  });
});
