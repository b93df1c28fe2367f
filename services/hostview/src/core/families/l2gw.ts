/**
 * `<H>.l2gw.<b>` (L2Gateway): a gateway binding of the `host` device that
 * is hypervisor H (inputs/gateway.ts): VLAN `vlan` of NIC `nic` bridged
 * into network `networkId`, which H then needs (needs.ts) and realises.
 */
import { hostviewKey, type L2Gateway } from '@strata/contracts';
import { stringify, type KeyFamily } from './family.js';

export const l2gwFamily: KeyFamily<'l2gw'> = {
  kind: 'l2gw',
  // After the network (2) whose bridge the VLAN device joins; deleted before it.
  putOrder: 8,
  value(model, k, needs): L2Gateway | undefined {
    const b = model.ipam.gatewayBindings.get(k.id);
    if (!b || b.hostId !== k.hostId || !model.ipam.hypervisors.has(k.hostId) || !needs.networks.has(b.networkId)) return undefined;
    return { id: b.id, networkId: b.networkId, nic: b.port, vlan: b.vlan };
  },
  encode: stringify,
  entries(model, hostId, needs, put) {
    for (const id of model.ipam.hostBindings.get(hostId) ?? []) put(hostviewKey.l2gw(hostId, id), this.value(model, { hostId, id, portId: '' }, needs));
  },
  hosts(_model, change, add) {
    for (const { before, after } of change.ipam.bindings.values()) {
      if (before?.hostId != null) add(before.hostId);
      if (after?.hostId != null) add(after.hostId);
    }
    // A gateway host registered again (its bindings' keys follow its registration).
    for (const h of change.ipam.hosts) add(h);
  },
  touched(model, hostId, change, _needs, add) {
    for (const [id, { before, after }] of change.ipam.bindings) if (before?.hostId === hostId || after?.hostId === hostId) add(hostviewKey.l2gw(hostId, id));
    if (change.ipam.hosts.has(hostId)) for (const id of model.ipam.hostBindings.get(hostId) ?? []) add(hostviewKey.l2gw(hostId, id));
  },
};
