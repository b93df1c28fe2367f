export type { AttributeSpec, Json, NeutronClients, NeutronContext, ResourceDefinition } from './resource.js';
