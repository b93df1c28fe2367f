/** Running commands: argv arrays only (no shell), with output captured and a clear error. */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly argv: string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly stdout: string = '',
  ) {
    super(`${argv.join(' ')} failed (exit ${code}): ${stderr.trim()}`);
  }
}

export async function sh(argv: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const [cmd, ...args] = argv;
  if (options.input !== undefined) return withInput(argv, options.input, options.timeoutMs ?? 60_000);
  try {
    const { stdout } = await execFileAsync(cmd!, args, { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as { code?: number; stderr?: string; stdout?: string };
    throw new CommandError(argv, typeof err.code === 'number' ? err.code : null, err.stderr ?? String(e), err.stdout ?? '');
  }
}

function withInput(argv: string[], input: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new CommandError(argv, code, err, out))));
    child.stdin.end(input);
  });
}

/** `sh` that reports success instead of throwing: for probes such as ping. */
export async function succeeds(argv: string[], timeoutMs = 30_000): Promise<boolean> {
  try {
    await sh(argv, { timeoutMs });
    return true;
  } catch {
    return false;
  }
}

/** Poll `probe` until it returns true, at most `attempts` times, `intervalMs` apart. */
export async function eventually(probe: () => Promise<boolean>, what: string, attempts = 60, intervalMs = 250): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Capture packets for `seconds` with tcpdump inside a namespace and return
 * the decoded lines. Resolves once tcpdump is listening (it says so on
 * stderr), so callers can start traffic right after awaiting `started`.
 */
export function capture(ns: string, iface: string, filter: string, seconds: number): { started: Promise<void>; lines: Promise<string[]> } {
  const child = spawn('ip', ['netns', 'exec', ns, 'timeout', String(seconds), 'tcpdump', '-l', '-nn', '-e', '-i', iface, filter], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let resolveStarted!: () => void;
  const started = new Promise<void>((r) => (resolveStarted = r));
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
    if (err.includes('listening on')) resolveStarted();
  });
  const lines = new Promise<string[]>((resolve, reject) => {
    child.on('close', (code) => {
      resolveStarted();
      // timeout(1) ends tcpdump with 124: that is the normal end of a capture.
      if (code === 0 || code === 124) resolve(out.split('\n').filter((l) => l.trim() !== ''));
      else reject(new CommandError(['tcpdump', iface, filter], code, err, out));
    });
  });
  return { started, lines };
}
