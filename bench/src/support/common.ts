/** Small helpers shared by the benchmarks: bounded concurrency, percentiles, machine facts, printing. */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/**
 * Run `count` tasks with at most `concurrency` in flight (task i gets the
 * number of the worker running it). Returns each task's
 * latency in ms (index = task number). Bounded: exactly `count` tasks run.
 */
export async function runPool(count: number, concurrency: number, task: (i: number, worker: number) => Promise<void>): Promise<Float64Array> {
  const latencies = new Float64Array(count);
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const t0 = performance.now();
      await task(i, w);
      latencies[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, w) => worker(w)));
  return latencies;
}

export function percentile(values: Float64Array, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** Reject if `p` does not settle within `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function machine(): Record<string, string> {
  let nats = 'unknown';
  try {
    nats = execFileSync(process.env['NATS_SERVER_BIN'] ?? 'nats-server', ['--version'], { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    /* reported as unknown */
  }
  let commit = 'unknown';
  try {
    const cwd = new URL('../../..', import.meta.url).pathname;
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', timeout: 5000 }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'libs', 'services'], { cwd, encoding: 'utf8', timeout: 5000 })
      .split('\n')
      .filter((l) => /^.M|^M/.test(l) && !l.includes('.spec.ts')).length;
    commit = `${head}${dirty ? ` + ${dirty} uncommitted change(s) in libs/ services/` : ''}`;
  } catch {
    /* not a git checkout */
  }
  return {
    date: new Date().toISOString(),
    commit,
    nproc: String(availableParallelism()),
    cpu: cpus()[0]?.model ?? 'unknown',
    memGiB: (totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    natsServer: nats,
    loadavg: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : String(n);

/** Print rows as an aligned table (also valid Markdown). */
export function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

export function intEnv(name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got ${raw}`);
  return n;
}

/**
 * A comma-separated list of integers in [min, max] (`_` allowed as a digit
 * separator, blanks ignored): unset → `fallback`; set but empty → [] (e.g.
 * `REPLICAS=` for none).
 */
export function intListEnv(name: string, fallback: number[], min = 1, max = Number.MAX_SAFE_INTEGER): number[] {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const xs = raw.split(',').map((x) => x.trim().replaceAll('_', '')).filter((x) => x !== '').map(Number);
  if (xs.some((n) => !Number.isInteger(n) || n < min || n > max)) throw new Error(`${name} must be comma-separated integers in [${min}, ${max}], got ${raw}`);
  return xs;
}

export const log = (...args: unknown[]): void => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...args);

/**
 * `QUICK=1`: every benchmark's quick mode, small enough to finish in under
 * 2 minutes on a quiet 2-core machine, for a before/after comparison on a
 * changed commit (bench/README.md). The full figures in docs/performance.md
 * come from the default sizes.
 */
export const QUICK = process.env['QUICK'] === '1';

/**
 * The last line every benchmark prints: `ratio <value> (<measured> ÷ <baseline>; goal <goal>)`.
 * One shape, so a before/after comparison can read it with `tail -1` and so
 * a reader always knows what was divided by what. A ratio that could not be
 * measured prints as NaN and fails the process (exit code 1).
 */
export function printRatio(value: number, what: { measured: string; baseline: string; goal: string; also?: string; digits?: number }): void {
  const digits = what.digits ?? (Math.abs(value) >= 100 ? 0 : 2);
  console.log(`ratio ${Number.isFinite(value) ? value.toFixed(digits) : 'NaN'} (${what.measured} ÷ ${what.baseline}; goal ${what.goal}${what.also ? `; ${what.also}` : ''})`);
  if (!Number.isFinite(value)) process.exitCode = 1;
}
