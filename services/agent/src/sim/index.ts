/** The scale simulation (issue 18): simulated hypervisors running the real agent core against an in-memory kernel. */
export { SimKernel } from './kernel.js';
export { simManagers } from './managers.js';
export { QuietLogger, SimHypervisor, type Received, type SimHypervisorOptions } from './hypervisor.js';
export { startFleet, type Fleet, type FleetOptions } from './fleet.js';
