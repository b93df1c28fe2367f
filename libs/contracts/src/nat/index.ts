export * from './events.js';
export * from './commands.js';
export * from './contract.js';
export * from './views.js';
