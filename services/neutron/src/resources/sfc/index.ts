/**
 * networking-sfc's resources on Strata's chaining service; their modules
 * declare networking-sfc's two extensions, `sfc` (port pairs, port pair
 * groups, port chains) and `flow_classifier`.
 */
import type { ResourceDefinition } from '../../resource.js';
import { flowClassifiers } from './flow-classifiers.js';
import { portChains } from './port-chains.js';
import { portPairGroups } from './port-pair-groups.js';
import { portPairs } from './port-pairs.js';

export const SFC_RESOURCES: readonly ResourceDefinition[] = [flowClassifiers, portPairs, portPairGroups, portChains];

export { flowClassifiers, portChains, portPairGroups, portPairs };
