export { startApiServer } from './server.js';
export type { ApiServer, ApiServerOptions } from './server.js';
export { Authenticator, loadTokens, parseTokens, sha256Hex } from './auth.js';
export type { ApiToken, Principal } from './auth.js';
export { grpcStatusOf, toServiceError } from './errors.js';
export { apiConfigSchema } from './config.js';
