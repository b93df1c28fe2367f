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
    const err = e as { code?: number; stderr?: string };
    throw new CommandError(argv, typeof err.code === 'number' ? err.code : null, err.stderr ?? String(e));
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
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new CommandError(argv, code, err))));
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
