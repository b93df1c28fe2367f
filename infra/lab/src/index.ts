export { Lab, type Hypervisor, type LabOptions } from './lab.js';
export { Vm } from './vm.js';
export { Netns, deleteAll, namespacesWithPrefix } from './netns.js';
export { startProcess, type ManagedProcess } from './process.js';
export { sh, succeeds, eventually, capture, CommandError } from './sh.js';
export { ADMIN, IpamClient, SecgroupClient, SeqTracker, ServiceClient, type Principal } from './control-client.js';
