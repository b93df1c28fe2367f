export { secgroupService, secgroupConfig } from './service.js';
export { evolve, applyStored } from './domain/evolve.js';
export { foldSecgroup, PROJECTION_SUBJECT } from './app/projection.js';
export { initialState, type SecgroupState } from './domain/state.js';
export { stateDigest } from '@strata/service-kit';
export { PORT_REACTOR_DURABLE, PORT_REACTOR_FILTER } from './app/port-reactor.js';
