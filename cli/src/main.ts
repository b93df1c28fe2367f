#!/usr/bin/env node
/** `strata`: the command-line client of the Strata API. */
import { run } from './run.js';

const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort());

process.exitCode = await run(process.argv.slice(2), {
  io: {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    // Carriage return and erase-line: one progress line updated in place.
    ...(process.stderr.isTTY ? { redraw: (s: string) => process.stderr.write(`\r\x1b[2K${s}`) } : {}),
  },
  env: process.env,
  interrupt: interrupt.signal,
});
