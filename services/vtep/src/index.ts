export { vtepService, vtepConfig } from './service.js';
export { desiredDevice, logicalSwitchName } from './domain/desired.js';
export { planDevice } from './domain/plan.js';
