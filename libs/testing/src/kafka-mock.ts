/**
 * A Kafka-protocol broker for tests: librdkafka's mock cluster
 * (kafka-mock/mock-cluster.c, Debian librdkafka-dev) built with gcc on first
 * use and cached by the hash of its source, then run as a child process on a
 * free loopback port. No Kafka broker is packaged for Debian or npm; this one
 * speaks the real protocol (metadata, produce with acks=-1, fetch, consumer
 * groups and committed offsets work with kafkajs 2.2.4; createTopics and the
 * idempotent and transactional producers do not: the mock reports controller
 * id 0). Topics are therefore created by the process itself, from `topics`.
 *
 * An outage is `down()`: the broker drops its connections and refuses new
 * ones, keeping its data; `up()` ends it. A stopped mock loses everything (it
 * lives in memory), so a test of an outage must use down/up, not a restart.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The C source, beside src/ and dist/ alike. */
export const KAFKA_MOCK_SOURCE = fileURLToPath(new URL('../kafka-mock/mock-cluster.c', import.meta.url));

export interface KafkaMockOptions {
  /** Topics to create, with their partition counts. */
  topics: ReadonlyArray<{ name: string; partitions: number }>;
  /** How long to wait for the bootstrap line (default 15 s). */
  startTimeoutMs?: number;
}

export interface KafkaMock {
  /** `127.0.0.1:<port>`: the one broker's address (kafkajs `brokers: [bootstrap]`). */
  bootstrap: string;
  readonly pid: number;
  /** Start an outage: the broker closes every connection and refuses new ones; its data stays. */
  down(): Promise<void>;
  /** End the outage. */
  up(): Promise<void>;
  /** Answer every request this many ms late (0: at once). */
  setRtt(ms: number): Promise<void>;
  /** Stop the process (its data is gone). Idempotent. */
  stop(): Promise<void>;
  /** The process's recent output, for failure messages. */
  logs(): string;
}

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/**
 * The mock's binary, compiled once per source version into the temporary
 * directory (an atomic rename, so concurrent test files never run a half-written one).
 */
export function kafkaMockBinary(): string {
  const source = readFileSync(KAFKA_MOCK_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'strata-kafka-mock');
  const binary = join(dir, `strata-kafka-mock-${hash}`);
  if (existsSync(binary)) return binary;
  if (!existsSync('/usr/include/librdkafka/rdkafka_mock.h')) {
    throw new Error('the Kafka mock broker needs librdkafka-dev and gcc (apt-get install librdkafka-dev gcc; scripts/setup.sh installs them)');
  }
  mkdirSync(dir, { recursive: true });
  const partial = `${binary}.${process.pid}.tmp`;
  execFileSync('gcc', ['-O2', '-Wall', '-o', partial, KAFKA_MOCK_SOURCE, '-lrdkafka'], { stdio: ['ignore', 'pipe', 'pipe'] });
  renameSync(partial, binary);
  return binary;
}

/** Start a mock Kafka cluster of one broker with the given topics. */
export async function startKafkaMock(options: KafkaMockOptions): Promise<KafkaMock> {
  hookExit();
  if (options.topics.length === 0) throw new Error('startKafkaMock: name at least one topic');
  const child = spawn(
    kafkaMockBinary(),
    options.topics.map((t) => `${t.name}:${t.partitions}`),
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  live.add(child);
  let out = '';
  const lineWaiters: Array<{ match: RegExp; resolve: (line: string) => void }> = [];
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  let pendingLine = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-16 * 1024);
    pendingLine += chunk.toString();
    const lines = pendingLine.split('\n');
    pendingLine = lines.pop() ?? '';
    for (const line of lines) {
      const i = lineWaiters.findIndex((w) => w.match.test(line));
      if (i >= 0) lineWaiters.splice(i, 1)[0]!.resolve(line);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-16 * 1024);
  });
  const nextLine = (match: RegExp, timeoutMs: number, what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kafka mock: no ${what} after ${timeoutMs} ms:\n${out}`)), timeoutMs);
      void exited.then(() => reject(new Error(`kafka mock exited before ${what}:\n${out}`)));
      lineWaiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  const command = async (cmd: 'down' | 'up' | `rtt ${number}`): Promise<void> => {
    const answer = nextLine(new RegExp(`^(ok|error) ${cmd}$`), 10_000, `answer to ${cmd}`);
    child.stdin.write(`${cmd}\n`);
    const line = await answer;
    if (!line.startsWith('ok')) throw new Error(`kafka mock: ${line}`);
  };
  try {
    const line = await nextLine(/^bootstrap /, options.startTimeoutMs ?? 15_000, 'bootstrap address');
    const bootstrap = line.slice('bootstrap '.length).trim();
    return {
      bootstrap,
      pid: child.pid!,
      down: () => command('down'),
      up: () => command('up'),
      setRtt: (ms) => {
        if (!Number.isInteger(ms) || ms < 0) throw new Error(`kafka mock: rtt must be a whole number of ms >= 0, got ${ms}`);
        return command(`rtt ${ms}`);
      },
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
      logs: () => out,
    };
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
}
