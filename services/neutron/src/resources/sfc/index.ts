/**
 * networking-sfc's resources on Strata's chaining service, and the two
 * extensions that declare them (`GET /v2.0/extensions` lists exactly these
 * for service chaining; their names, descriptions and dates are
 * networking-sfc's own).
 */
import type { ResourceDefinition } from '../../resource.js';
import { flowClassifiers } from './flow-classifiers.js';
import { portChains } from './port-chains.js';
import { portPairGroups } from './port-pair-groups.js';
import { portPairs } from './port-pairs.js';

export const sfcResources: readonly ResourceDefinition[] = [portPairs, portPairGroups, flowClassifiers, portChains];

/** A Neutron extension as `/v2.0/extensions` shows it. */
export interface NeutronExtension {
  alias: string;
  name: string;
  description: string;
  updated: string;
  links: never[];
}

export const sfcExtensions: readonly NeutronExtension[] = [
  { alias: 'flow_classifier', name: 'Flow Classifier', description: 'Flow Classifier Extension.', updated: '2015-10-05T10:00:00-00:00', links: [] },
  { alias: 'sfc', name: 'Service Function Chaining', description: 'Service Function Chain extension.', updated: '2015-10-05T10:00:00-00:00', links: [] },
];

export { flowClassifiers, portChains, portPairGroups, portPairs };
