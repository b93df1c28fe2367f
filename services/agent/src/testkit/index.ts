/** Test support: a namespace lab for the agent and a miniature host-view derivation. Not used by the agent itself. */
export { NetLab, sh, shOk } from './netlab.js';
export type { LabHost, LabVm } from './netlab.js';
export { hostView, subnet } from './cloud.js';
export type { Cloud, CloudNetwork, CloudPort } from './cloud.js';
