export type { Identity, Role, TokenValidator } from './identity.js';
