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
  *entries(model, hostId, needs) {
    yield [hostviewKey.host(hostId), this.value(model, { hostId, kind: 'host', id: '', portId: '', name: '' }, needs)];
  },
  hosts: (_model, change) => change.ipam.hosts,
  touched: (_model, hostId, change) => (change.ipam.hosts.has(hostId) ? [hostviewKey.host(hostId)] : []),
};
