export { auditService, auditConfig } from './service.js';
export { evolve, initialCatalogue, isRelevant, touchedBy, entryOf, type CatalogueEntry, type CatalogueState } from './domain/catalogue.js';
export { lastPoint, resolvePoint, resolvePoints, type LogPoints } from './domain/points.js';
export { hostAt, hostDiff, lineChanges, type RenderHost } from './domain/host-lines.js';
