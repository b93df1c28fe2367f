/** The write queue against fake buckets: routing to each host's bucket, coalescing, batch order, retries. */
import { describe, expect, it } from 'vitest';
import { KvPublisher, type HostBucket, type HostBuckets } from './publisher.js';

/** Per-host buckets whose writes complete when the test says so, and may fail; one log of every write. */
class FakeKv implements HostBuckets {
  readonly calls: string[] = [];
  /** Writes as `<bucket host>: <call>`. */
  readonly routed: string[] = [];
  readonly inFlight: Array<{ call: string; settle: (ok: boolean) => void }> = [];
  readonly opens: string[] = [];
  manual = false;
  failNext = 0;
  failOpens = 0;
  maxConcurrent = 0;

  open(hostId: string): Promise<HostBucket> {
    this.opens.push(hostId);
    if (this.failOpens > 0) {
      this.failOpens -= 1;
      return Promise.reject(new Error('stream create timed out'));
    }
    const bucket = {
      put: (key: string, value: Uint8Array) => this.write(hostId, `put ${key}=${new TextDecoder().decode(value)}`),
      delete: (key: string) => this.write(hostId, `del ${key}`).then(() => undefined),
      watch: () => Promise.reject(new Error('not in this fake')),
    };
    return Promise.resolve(bucket as unknown as HostBucket);
  }
  hosts(): Promise<string[]> {
    return Promise.resolve([...new Set(this.opens)]);
  }
  private write(hostId: string, call: string): Promise<number> {
    this.calls.push(call);
    this.routed.push(`${hostId}: ${call}`);
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

const publisher = (fake: FakeKv, concurrency = 8) => new KvPublisher(fake, { concurrency, retryDelayMs: 1, maxRetryDelayMs: 2 });

/** Let the writes the fake acknowledged so far complete, until nothing is in flight or queued. */
async function drain(fake: FakeKv, p: KvPublisher): Promise<void> {
  while (fake.inFlight.length > 0 || p.backlog > 0) {
    fake.ackAll();
    await new Promise((r) => setImmediate(r));
  }
  await p.idle();
}

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
    await new Promise((r) => setImmediate(r)); // the buckets open
    expect(fake.inFlight.map((w) => w.call)).toEqual(['put k=1', 'put x=1']); // bounded concurrency
    p.enqueue([{ op: 'put', key: 'k', value: '2' }]);
    p.enqueue([{ op: 'put', key: 'k', value: '3' }]);
    fake.ackAll();
    await drain(fake, p);
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

  it('asks mayWrite right before each write is sent: one refused mid-batch is not sent, is retried, and goes out once allowed again', async () => {
    const fake = new FakeKv();
    fake.manual = true;
    let allowed = true;
    const p = new KvPublisher(fake, { concurrency: 1, retryDelayMs: 1, maxRetryDelayMs: 2, mayWrite: () => allowed });
    p.enqueue([{ op: 'put', key: 'h.net.n', value: '1' }, { op: 'put', key: 'h.ep.1', value: '1' }]);
    await new Promise((r) => setImmediate(r));
    expect(fake.calls).toEqual(['put h.net.n=1']);
    // The lease runs out while the first write is in flight (the batch began before): the second is held back.
    allowed = false;
    fake.ackAll();
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(fake.calls).toEqual(['put h.net.n=1']);
    expect(p.healthy).toBe(false);
    expect(p.backlog).toBe(1);
    allowed = true;
    await drain(fake, p);
    expect(fake.calls).toEqual(['put h.net.n=1', 'put h.ep.1=1']);
    expect(p.healthy).toBe(true);
  });

  it('a write mayWrite refuses is dropped by close() (the lease is lost), never sent', async () => {
    const fake = new FakeKv();
    const p = new KvPublisher(fake, { concurrency: 4, retryDelayMs: 1, maxRetryDelayMs: 2, mayWrite: () => false });
    p.enqueue([{ op: 'put', key: 'h.port.p', value: '1' }, { op: 'put', key: 'h.position.view', value: '{"seq":3}' }]);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await p.close();
    await p.idle();
    expect(fake.calls).toEqual([]);
  });

  it("writes each key to its host's bucket, or to the bucket the write names; opens each bucket once", async () => {
    const fake = new FakeKv();
    const p = publisher(fake);
    p.pause();
    p.enqueue([
      { op: 'put', key: 'hv1.host', value: '1' },
      { op: 'put', key: 'hv2.host', value: '2' },
      { op: 'put', key: 'hv1.port.p', value: 'p' },
      // A stray key found in hv1's bucket: deleted there, not in hv2's (where hv2.host lives).
      { op: 'delete', key: 'hv2.host', host: 'hv1' },
    ]);
    p.resume();
    await p.idle();
    // Order matters within a bucket (an agent watches one); buckets are independent streams.
    expect(fake.routed.filter((c) => c.startsWith('hv1:'))).toEqual(['hv1: put hv1.host=1', 'hv1: put hv1.port.p=p', 'hv1: del hv2.host']);
    expect(fake.routed.filter((c) => c.startsWith('hv2:'))).toEqual(['hv2: put hv2.host=2']);
    p.enqueue([{ op: 'put', key: 'hv1.host', value: '3' }]);
    await p.idle();
    expect(fake.opens).toEqual(['hv1', 'hv2']);
  });

  it('the same key in two buckets is two writes, coalesced separately', async () => {
    const fake = new FakeKv();
    const p = publisher(fake);
    p.pause();
    p.enqueue([
      { op: 'put', key: 'hv2.ep.e', value: 'a' },
      { op: 'delete', key: 'hv2.ep.e', host: 'hv1' },
      { op: 'put', key: 'hv2.ep.e', value: 'b' },
    ]);
    p.resume();
    await p.idle();
    expect(fake.routed).toEqual(['hv2: put hv2.ep.e=b', 'hv1: del hv2.ep.e']);
  });

  it('a bucket that cannot be opened is retried like a failed write, and opened again after a failed write', async () => {
    const fake = new FakeKv();
    const p = publisher(fake);
    fake.failOpens = 1;
    p.enqueue([{ op: 'put', key: 'hv1.host', value: '1' }]);
    await p.idle();
    expect(fake.routed).toEqual(['hv1: put hv1.host=1']);
    fake.failNext = 1;
    p.enqueue([{ op: 'put', key: 'hv1.host', value: '2' }]);
    await p.idle();
    expect(fake.routed).toEqual(['hv1: put hv1.host=1', 'hv1: put hv1.host=2', 'hv1: put hv1.host=2']);
    // Opened: the failed first open, the success, and again after the failed write (the bucket may have been deleted).
    expect(fake.opens).toEqual(['hv1', 'hv1', 'hv1']);
    expect(p.healthy).toBe(true);
  });

  describe("a host's position", () => {
    const pos = (host: string, seq: number) => ({ op: 'put' as const, key: `${host}.position.view`, value: `{"seq":${seq}}` });
    const inFlight = (fake: FakeKv) => fake.inFlight.map((w) => w.call);
    const tick = () => new Promise((r) => setImmediate(r));

    it('is written only after every write of its host queued before it is acknowledged; other hosts are not held', async () => {
      const fake = new FakeKv();
      fake.manual = true;
      const p = publisher(fake);
      p.enqueue([{ op: 'put', key: 'hv1.port.a', value: '1' }, { op: 'put', key: 'hv1.ep.b', value: '1' }, pos('hv1', 5), pos('hv2', 5)]);
      await tick();
      // hv2 has nothing before its position: it goes in the first batch; hv1's waits.
      expect(inFlight(fake).sort()).toEqual(['put hv1.ep.b=1', 'put hv1.port.a=1', 'put hv2.position.view={"seq":5}']);
      fake.ackAll();
      await tick();
      expect(inFlight(fake)).toEqual(['put hv1.position.view={"seq":5}']);
      await drain(fake, p);
      expect(p.backlog).toBe(0);
    });

    it('a failing put holds it back until the retry succeeds', async () => {
      const fake = new FakeKv();
      fake.manual = true;
      const p = publisher(fake);
      p.enqueue([{ op: 'put', key: 'hv1.port.a', value: '1' }, pos('hv1', 7)]);
      await tick();
      expect(inFlight(fake)).toEqual(['put hv1.port.a=1']);
      // Fails: the retry goes first, the position still waits.
      fake.inFlight.splice(0)[0]!.settle(false);
      for (let i = 0; i < 20 && fake.inFlight.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
      expect(inFlight(fake)).toEqual(['put hv1.port.a=1']);
      expect(fake.calls).not.toContain('put hv1.position.view={"seq":7}');
      // It fails again; a newer write of the key is queued meanwhile: the position waits for that one.
      p.enqueue([{ op: 'put', key: 'hv1.port.a', value: '2' }]);
      fake.inFlight.splice(0)[0]!.settle(false);
      for (let i = 0; i < 20 && fake.inFlight.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
      expect(inFlight(fake)).toEqual(['put hv1.port.a=2']);
      fake.ackAll();
      await tick();
      expect(inFlight(fake)).toEqual(['put hv1.position.view={"seq":7}']);
      await drain(fake, p);
      expect(fake.calls).toEqual(['put hv1.port.a=1', 'put hv1.port.a=1', 'put hv1.port.a=2', 'put hv1.position.view={"seq":7}']);
    });

    it('a newer write of a key queued before it makes it wait for that write', async () => {
      const fake = new FakeKv();
      fake.manual = true;
      const p = publisher(fake);
      p.pause();
      p.enqueue([{ op: 'put', key: 'hv1.port.a', value: '1' }, pos('hv1', 3), { op: 'put', key: 'hv1.port.a', value: '2' }]);
      p.resume();
      await tick();
      expect(inFlight(fake)).toEqual(['put hv1.port.a=2']);
      await drain(fake, p);
      expect(fake.calls).toEqual(['put hv1.port.a=2', 'put hv1.position.view={"seq":3}']);
    });

    it('is not starved by a host written continuously: each batch carries the newest position whose writes are through', async () => {
      const fake = new FakeKv();
      fake.manual = true;
      const p = publisher(fake);
      p.enqueue([{ op: 'put', key: 'hv1.ep.1', value: '1' }, pos('hv1', 1)]);
      await tick();
      expect(inFlight(fake)).toEqual(['put hv1.ep.1=1']);
      for (let seq = 2; seq <= 4; seq++) {
        p.enqueue([{ op: 'put', key: `hv1.ep.${seq}`, value: '1' }, pos('hv1', seq)]);
        fake.ackAll();
        await tick();
        // The previous event's keys are acknowledged: its position goes with this event's keys, never before them.
        expect(inFlight(fake).sort()).toEqual([`put hv1.ep.${seq}=1`, `put hv1.position.view={"seq":${seq - 1}}`]);
      }
      await drain(fake, p);
      expect(fake.calls.at(-1)).toBe('put hv1.position.view={"seq":4}');
    });

    it("a stray position key in another host's bucket is deleted there beside that host's own position", async () => {
      const fake = new FakeKv();
      const p = publisher(fake);
      p.pause();
      p.enqueue([{ op: 'delete', key: 'hv2.position.view', host: 'hv1' }, pos('hv1', 4)]);
      p.resume();
      await p.idle();
      expect(fake.routed.sort()).toEqual(['hv1: del hv2.position.view', 'hv1: put hv1.position.view={"seq":4}']);
    });

    it('of several queued, only the newest that is due is written (older ones are superseded)', async () => {
      const fake = new FakeKv();
      const p = publisher(fake);
      p.pause();
      p.enqueue([pos('hv1', 1), pos('hv1', 2), { op: 'put', key: 'hv1.ep.x', value: '1' }, pos('hv1', 3)]);
      p.resume();
      await p.idle();
      expect(fake.calls).toEqual(['put hv1.ep.x=1', 'put hv1.position.view={"seq":2}', 'put hv1.position.view={"seq":3}']);
    });
  });
});
