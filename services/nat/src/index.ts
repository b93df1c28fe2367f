export { natService, natConfig } from './service.js';
export { evolve, applyStored, isRelevant } from './domain/evolve.js';
export { initialState, type NatState } from './domain/state.js';
export { NAT_REACTOR_DURABLE, NAT_REACTOR_FILTER } from './app/reactor.js';
export { foldNat, PROJECTION_SUBJECT } from './app/projection.js';
