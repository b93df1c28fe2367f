/** Test support for other packages' tests: build an event log one call per event, fold it, derive host views. */
export { Given, replay, deriveAll, plain, rule } from './core/test/given.js';
