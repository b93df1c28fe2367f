import { CommanderError } from 'commander';
import { CliContext, type CliEnv } from './context.js';
import { EXIT_OK, EXIT_USAGE, describeError } from './errors.js';
import type { Io } from './output.js';
import { buildProgram } from './program.js';

export interface RunOptions {
  io: Io;
  env: CliEnv;
  interrupt?: AbortSignal;
}

/** Run one `strata` invocation; returns the exit code instead of exiting, so it can be tested in-process. */
export async function run(argv: readonly string[], opts: RunOptions): Promise<number> {
  const cli = new CliContext(opts.io, opts.env, opts.interrupt);
  try {
    await buildProgram(cli).parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    // Commander has already printed its own message (usage errors) or the help text.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    const { message, exitCode } = describeError(err);
    opts.io.err(message);
    return exitCode;
  } finally {
    cli.close();
  }
}
