export { PgProjector, type ProjectorOptions, type ProjectorLog } from './projector.js';
export { applyBatch, readCheckpoint, ModelRebuilt, type AppliedBatch, type Checkpoint } from './apply.js';
export { eventRow, resourcesOf, versionTable, pgJson, pgText, type EventRow, type ResourceRef } from './rows.js';
export { SCHEMA_NAME, schemaDdl, schemaName, modelTables, ensureSchema } from './schema.js';
export { rebuildModel, modelHashes } from './model.js';
export { PG_PROJECTOR_DURABLE, pgProjectorConfig, pgProjectorService } from './service.js';
export { CRASH_MARKER } from './crash-hook.js';
