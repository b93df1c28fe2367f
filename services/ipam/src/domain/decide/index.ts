/** Command name → decider. Each is pure: (state, command, context) → one decision or a typed error. */
import type { IpamCommand, IpamCommandName } from '@strata/contracts';
import type { IpamState } from '../state.js';
import { createGatewayBinding, createGatewayDevice, deleteGatewayBinding, deleteGatewayDevice, moveGatewayBinding } from './gateway.js';
import { closeNetwork, createNetwork, updateNetwork } from './network.js';
import { setAllowedAddressPairs } from './pairs.js';
import { attachPeering, createPeeringSegment, deletePeeringSegment, detachPeering, grantPeeringSegment, revokePeeringSegment } from './peering.js';
import { bindPort, createPort, deletePort, updatePort } from './port.js';
import {
  allocateApplicationPrefix,
  allocateFloatingIp,
  createPool,
  deletePool,
  deregisterHypervisor,
  registerHypervisor,
  releaseApplicationPrefix,
  releaseFloatingIp,
} from './public.js';
import { addRouterInterface, createRouter, deleteRouter, removeRouterInterface, updateRouter } from './router.js';
import { createSubnet, deleteSubnet, updateSubnet } from './subnet.js';
import type { CommandContext, Decision } from './types.js';

type Decider<K extends IpamCommandName> = (state: IpamState, cmd: IpamCommand<K>, ctx: CommandContext) => Decision;

export const deciders: { [K in IpamCommandName]: Decider<K> } = {
  'network.create': createNetwork,
  'network.update': updateNetwork,
  'network.delete': closeNetwork,
  'subnet.create': createSubnet,
  'subnet.update': updateSubnet,
  'subnet.delete': deleteSubnet,
  'port.create': createPort,
  'port.update': updatePort,
  'port.bind': bindPort,
  'port.setAllowedAddressPairs': setAllowedAddressPairs,
  'port.delete': deletePort,
  'hypervisor.register': registerHypervisor,
  'hypervisor.deregister': deregisterHypervisor,
  'pool.create': createPool,
  'pool.delete': deletePool,
  'floatingip.create': allocateFloatingIp,
  'floatingip.delete': releaseFloatingIp,
  'appprefix.create': allocateApplicationPrefix,
  'appprefix.delete': releaseApplicationPrefix,
  'router.create': createRouter,
  'router.update': updateRouter,
  'router.delete': deleteRouter,
  'router.addInterface': addRouterInterface,
  'router.removeInterface': removeRouterInterface,
  'gatewaydevice.create': createGatewayDevice,
  'gatewaydevice.delete': deleteGatewayDevice,
  'gatewaybinding.create': createGatewayBinding,
  'gatewaybinding.move': moveGatewayBinding,
  'gatewaybinding.delete': deleteGatewayBinding,
  'peeringsegment.create': createPeeringSegment,
  'peeringsegment.delete': deletePeeringSegment,
  'peeringsegment.grant': grantPeeringSegment,
  'peeringsegment.revoke': revokePeeringSegment,
  'peeringsegment.attach': attachPeering,
  'peeringsegment.detach': detachPeering,
};

export { finishNetworkDeletion, halfDeletedNetworks } from './network.js';
export { decideGarp, garpEventId, judgeGarp, type GarpIgnored, type GarpVerdict } from './pairs.js';
export * from './types.js';
export { decideGatewayMacs, decideStaleGatewayMacs, gatewayMacEventId, judgeGatewayMacs, judgeStaleGatewayMacs, type GatewayMacsIgnored, type GatewayMacsVerdict } from './gateway-macs.js';
