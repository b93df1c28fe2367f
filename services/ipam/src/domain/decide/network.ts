import { AlreadyExistsError, ExhaustedError, IllegalStateError, NotFoundError } from '@strata/errors';
import { CLOUD_AGGREGATE, networkAggregate, type IpamCommand } from '@strata/contracts';
import { createdId, owningTenant, requireAdmin, visible } from '@strata/service-kit';
import { nextFreeVni } from '../allocate.js';
import type { IpamState } from '../state.js';
import { bindingsOfNetwork } from './gateway.js';
import { changedFields, isEmpty, openNetwork, requireRevision } from './shared.js';
import type { CommandContext, Decision } from './types.js';

export function createNetwork(state: IpamState, cmd: IpamCommand<'network.create'>, ctx: CommandContext): Decision {
  const { caller, policy } = ctx;
  const tenant = owningTenant(caller, cmd.tenant);
  const id = createdId(caller, 'ipam', 'network');
  const existing = state.cloud.networks[id];
  if (existing) {
    if (existing.tenant === tenant) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`network ${id} already exists`);
  }
  const vni = cmd.vni === undefined ? allocatedVni(state, policy) : chosenVni(state, cmd.vni, ctx);
  const foreignVni = vni < policy.vniMin || vni > policy.vniMax;
  return {
    kind: 'append',
    aggregate: CLOUD_AGGREGATE,
    expectedVersion: state.cloud.version,
    tenant,
    resourceId: id,
    event: {
      type: 'ipam.NetworkCreated',
      data: {
        networkId: id,
        name: cmd.name,
        vni,
        mtu: cmd.mtu ?? policy.defaultMtu,
        routed: cmd.routed,
        ...(cmd.description ? { description: cmd.description } : {}),
        ...(cmd.portSecurityEnabled ? {} : { portSecurityEnabled: false }),
        ...(cmd.federated ? { federated: true } : {}),
        ...(foreignVni ? { foreignVni: true } : {}),
      },
    },
  };
}

function allocatedVni(state: IpamState, policy: CommandContext['policy']): number {
  const vni = nextFreeVni(state.cloud.vnis, policy.vniMin, policy.vniMax, policy.vniMin);
  if (vni === null) {
    throw new ExhaustedError(`no free VNI: all ${policy.vniMax - policy.vniMin + 1} VNIs of ${policy.vniMin}-${policy.vniMax} are in use`);
  }
  return vni;
}

/**
 * An admin's VNI: how a zone joins a segment another zone allocated (docs/
 * architecture.md, "Availability zones"). Any VNI one network of this zone
 * already has is refused, inside this zone's range or not: two local
 * networks on one VNI would be one segment.
 */
function chosenVni(state: IpamState, vni: number, ctx: CommandContext): number {
  requireAdmin(ctx.caller, 'choosing a network\'s VNI');
  const holder = state.cloud.vnis[String(vni)];
  if (holder !== undefined) throw new AlreadyExistsError(`VNI ${vni} is taken by network ${holder}`, { field: 'vni' });
  return vni;
}

/**
 * Name, description, MTU, the ports' default port security and the federated flag (the
 * network's tenant or an admin) change; the rest is refused by the request
 * schema (tenant, routed) or is IPAM's own (VNI). The event goes on the
 * network's own aggregate, so an update and the network's closing are
 * decided against one version (an update of a closing network is refused).
 */
export function updateNetwork(state: IpamState, cmd: IpamCommand<'network.update'>, ctx: CommandContext): Decision {
  const { network, aggregate } = openNetwork(state, ctx.caller, cmd.id);
  requireRevision('network', cmd.id, network.revision, cmd.expectedRevision);
  const changed = changedFields(network, cmd, ['name', 'description', 'mtu', 'portSecurityEnabled', 'federated']);
  if (isEmpty(changed)) return { kind: 'done', resourceId: cmd.id };
  return {
    kind: 'append',
    aggregate: networkAggregate(cmd.id),
    expectedVersion: aggregate.version,
    tenant: network.tenant,
    resourceId: cmd.id,
    event: { type: 'ipam.NetworkUpdated', data: { networkId: cmd.id, ...changed } },
  };
}

/**
 * Deleting a network takes two events: NetworkClosed on the network's own
 * aggregate (so it races correctly with a concurrent port creation), then
 * NetworkDeleted on the cloud aggregate (which frees the VNI). A crash in
 * between leaves a closed network that `finishNetworkDeletion` completes.
 */
export function closeNetwork(state: IpamState, cmd: IpamCommand<'network.delete'>, ctx: CommandContext): Decision {
  const entry = visible(ctx.caller, 'network', cmd.id, state.cloud.networks[cmd.id]);
  const n = state.networks[cmd.id];
  if (n?.closed) return { kind: 'done', resourceId: cmd.id };
  const joined = Object.keys(n?.subnets ?? {}).find((id) => state.subnetRouter[id] !== undefined);
  if (joined !== undefined) {
    throw new IllegalStateError(`subnet ${joined} of network ${cmd.id} is joined to router ${state.subnetRouter[joined]}; remove the router interface first`);
  }
  const bindings = bindingsOfNetwork(state, cmd.id);
  if (bindings.length > 0) {
    throw new IllegalStateError(`network ${cmd.id} is bound to ${bindings.length} gateway VLAN(s) (binding ${bindings[0]!.id}, …); delete the bindings first`, { bindings: bindings.length });
  }
  const ports = Object.keys(n?.ports ?? {}).length;
  if (ports > 0) {
    throw new IllegalStateError(`network ${cmd.id} still has ${ports} port(s); delete them first`, { ports });
  }
  return {
    kind: 'append',
    aggregate: networkAggregate(cmd.id),
    expectedVersion: n?.version ?? 0,
    tenant: entry.tenant,
    resourceId: cmd.id,
    event: { type: 'ipam.NetworkClosed', data: { networkId: cmd.id } },
  };
}

export function finishNetworkDeletion(state: IpamState, networkId: string): Decision {
  const entry = state.cloud.networks[networkId];
  if (!entry) return { kind: 'done', resourceId: networkId };
  if (!state.networks[networkId]?.closed) throw new NotFoundError('closed network', networkId);
  return {
    kind: 'append',
    aggregate: CLOUD_AGGREGATE,
    expectedVersion: state.cloud.version,
    tenant: entry.tenant,
    resourceId: networkId,
    event: { type: 'ipam.NetworkDeleted', data: { networkId, vni: entry.vni } },
  };
}

/** Networks whose deletion stopped half-way (closed, VNI still held). */
export const halfDeletedNetworks = (state: IpamState): string[] =>
  Object.keys(state.cloud.networks).filter((id) => state.networks[id]?.closed === true);
