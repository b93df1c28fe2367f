export * from './reports.js';
export * from './hostview-query.js';
export * from './views.js';
export * from './events.js';
export * from './commands.js';
export * from './contract.js';
