/**
 * Test support shared by every service (`@strata/service-kit/testing`):
 * given/when/then for deciders and replay checks for integration tests.
 * Not imported by production code.
 */
export { admin, errorOf, EventFixture, TEST_AT, tenantA, tenantB } from './given.js';
export type { DeciderFor, EventEncoder, GivenEvent, RequestSchema } from './given.js';
export { eventsOf, replayDigest } from './replay.js';
export { historyMismatches, type HistoryCase } from './history.js';
