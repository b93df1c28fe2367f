export * from './kinds.js';
export * from './history.js';
export * from './hostview-at.js';
export * from './views.js';
export * from './commands.js';
export * from './contract.js';
export * from './derive.js';
