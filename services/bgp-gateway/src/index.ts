export { bgpGatewayService, bgpConfig } from './service.js';
export { applyStored, evolve } from './domain/evolve.js';
export { initialState, type BgpState } from './domain/state.js';
export { diffRib, type Advertisement } from './domain/advertisements.js';
export { desiredAdvertisements } from './domain/desired-table.js';
export { GobgpClient } from './gobgp/client.js';
export { STRATA_COMMUNITY_TEXT } from './gobgp/paths.js';
export { applianceKey } from './app/secrets.js';
