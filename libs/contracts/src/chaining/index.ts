export * from './views.js';
export * from './events.js';
