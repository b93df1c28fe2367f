export type { Identity, Role, TokenValidator } from './identity.js';
export { mayWrite, strataRole } from './role-map.js';
export {
  keystoneConfigFromEnv,
  keystoneEnvShape,
  keystoneValidatorConfigSchema,
  type KeystoneEnv,
  type KeystoneValidatorConfig,
  type KeystoneValidatorConfigInput,
} from './config.js';
export { KeystoneValidator, type KeystoneValidatorOptions, type ValidatorLogger, type ValidatorStats } from './keystone-validator.js';
export { KeystoneUnavailableError } from './keystone-client.js';
export { revokes, RevocationList, type RevocationEvent, type TokenFacts } from './revocation.js';
export { cachedVerdict, type CacheEntry, type CachePolicy, type Verdict } from './cache-policy.js';
