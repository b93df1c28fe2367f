export { Lab, type Hypervisor, type LabOptions } from './lab.js';
export { Vm } from './vm.js';
export { Netns, deleteAll, namespacesWithPrefix } from './netns.js';
export { startProcess, type ManagedProcess } from './process.js';
export { sh, succeeds, eventually, capture, CommandError } from './sh.js';
export { ADMIN, BgpClient, IpamClient, SecgroupClient, SeqTracker, ServiceClient, type Principal } from './control-client.js';
export { ContractClient, NatClient, type ContractTypes, type NatContract } from './control-client.js';
export { APPLIANCE_AS, BgpFabric, Frr, GATEWAY_AS, GW, TOR, TOR_AS, applianceConfig, gwInSubnet, kernelRoute } from './bgp-fabric.js';
export { BORDER_PUBLIC_IP, BORDER_UNDERLAY_IP, INTERNET_CLIENT_IP, type ExternalSide } from './external.js';
