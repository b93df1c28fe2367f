/** Command name → decider. Each is pure: (state, command, context) → one decision or a typed error. */
import type { BgpCommand, BgpCommandName } from '@strata/contracts';
import type { BgpState } from '../state.js';
import { assignPrefix, createPeer, createPeerGroup, deletePeer, deletePeerGroup, setSettings, unassignPrefix, updatePeer, updatePeerGroup } from './config.js';
import { clearFederation, setFederation } from './federation-config.js';
import type { CommandContext, Decision } from './types.js';

type Decider<K extends BgpCommandName> = (state: BgpState, cmd: BgpCommand<K>, ctx: CommandContext) => Decision;

export const deciders: { [K in BgpCommandName]: Decider<K> } = {
  'settings.set': setSettings,
  'peer.create': createPeer,
  'peer.update': updatePeer,
  'peer.delete': deletePeer,
  'peergroup.create': createPeerGroup,
  'peergroup.update': updatePeerGroup,
  'peergroup.delete': deletePeerGroup,
  'appliance.assign': assignPrefix,
  'appliance.unassign': unassignPrefix,
  'federation.set': setFederation,
  'federation.clear': clearFederation,
};

export * from './federation.js';
export * from './physical.js';
export * from './routes.js';
export * from './sessions.js';
export * from './types.js';
