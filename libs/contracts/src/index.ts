export * from './common.js';
export * from './subjects.js';
export * from './ipam/views.js';
export * from './ipam/commands.js';
export * from './ipam/events.js';
export * from './hostview.js';
export * from './secgroup/index.js';
