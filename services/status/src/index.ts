export { statusService, statusConfig } from './service.js';
export { evolve, applyStored, isRelevant, statusFollows } from './domain/evolve.js';
export { initialState, type StatusState } from './domain/state.js';
export { PROJECTION_SUBJECT } from './app/projection.js';
