/** `<H>.host` (HostInfo): the hypervisor itself, while it is registered. */
import { hostviewKey, type HostInfo } from '@strata/contracts';
import { stringify, type KeyFamily } from './family.js';

export const hostFamily: KeyFamily<'host'> = {
  kind: 'host',
  putOrder: 0,
  value(model, k): HostInfo | undefined {
    const h = model.ipam.hypervisors.get(k.hostId);
    return h && { id: h.id, publicIp: h.publicIp, vtepIp: h.vtepIp };
  },
  encode: stringify,
  entries(model, hostId, needs, put) {
    put(hostviewKey.host(hostId), this.value(model, { hostId, id: '', portId: '' }, needs));
  },
  hosts(_model, change, add) {
    for (const h of change.ipam.hosts) add(h);
  },
  touched(_model, hostId, change, _needs, add) {
    if (change.ipam.hosts.has(hostId)) add(hostviewKey.host(hostId));
  },
};
