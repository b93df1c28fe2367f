export { ipamService, ipamConfig } from './service.js';
export { evolve } from './domain/evolve.js';
export { foldIpam } from './app/fold.js';
export { ipamHistorySource } from './app/history.js';
export { initialState, type IpamState } from './domain/state.js';
export { stateDigest } from '@strata/service-kit';
