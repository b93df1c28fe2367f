export { run } from './run.js';
export type { RunOptions } from './run.js';
export { buildProgram } from './program.js';
export { describeError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors.js';
