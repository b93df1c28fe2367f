export * from './views.js';
export * from './commands.js';
export * from './contract.js';
export * from './events.js';
export * from './ids.js';
export * from './refusals.js';
