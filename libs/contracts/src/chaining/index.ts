export * from './views.js';
export * from './events.js';
export * from './commands.js';
export * from './contract.js';
