export { vtepService, vtepConfig } from './service.js';
export { desiredDevice, logicalSwitchName } from './domain/desired.js';
export { planDevice } from './domain/plan.js';
export { parseTarget, type OvsdbTarget } from './ovsdb/connection.js';
export { VtepSession, VTEP_DB } from './ovsdb/session.js';
export { vtepView, type VtepView } from './ovsdb/vtep-view.js';
