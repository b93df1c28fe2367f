export type { AttributeSpec, AttributeType, ExtensionDescriptor, Json, NeutronClients, NeutronContext, ResourceDefinition } from './resource.js';
export { NeutronHttpError, badRequest, httpBadRequest, invalidInput, notFoundOf, policyNotAuthorized } from './errors.js';
export { NeutronEngine, type NeutronEngineOptions, type NeutronRequest, type NeutronResponse } from './engine.js';
export { DEFAULT_HTTP_LIMITS, DEFAULT_MAX_BODY_BYTES, neutronClients, startNeutronServer, type HttpLimits, type NeutronServer, type NeutronServerOptions } from './server.js';
export { NEUTRON_RESOURCES } from './resources/index.js';
