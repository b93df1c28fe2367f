export { chainingService, chainingConfig } from './service.js';
export { evolve, applyStored, isRelevant } from './domain/evolve.js';
export { initialState, type ChainingState } from './domain/state.js';
export { CHAINING_REACTOR_DURABLE, CHAINING_REACTOR_FILTER } from './app/reactor.js';
export { foldChaining, PROJECTION_SUBJECT } from './app/projection.js';
