import type { NetworkView } from '@strata/contracts';
import type { Network, NetworkServiceHandlers } from '@strata/proto';
import { paging, unary, type RpcDeps } from '../rpc.js';

export function toNetwork(v: NetworkView): Network {
  const { id, tenant, name, vni, mtu, routed, createdAt, updatedAt, description, revision, portSecurityEnabled, federated } = v;
  return { id, tenant, name, vni, mtu, routed, createdAt, updatedAt, description, revision, portSecurityEnabled, federated };
}

export function networkHandlers(deps: RpcDeps): NetworkServiceHandlers {
  const { ipam } = deps;
  return {
    CreateNetwork: unary(deps, 'CreateNetwork', async (req, { meta }) =>
      toNetwork(await ipam.command('network.create', { tenant: req.tenant, name: req.name, description: req.description, mtu: req.mtu, routed: req.routed, portSecurityEnabled: req.portSecurityEnabled, federated: req.federated, vni: req.vni }, meta)),
    ),
    // Absent fields stay absent (unchanged); the never-changing ones are passed on for IPAM to refuse by name.
    UpdateNetwork: unary(deps, 'UpdateNetwork', async (req, { meta }) => {
      const { id, expectedRevision, name, description, mtu, tenant, routed, portSecurityEnabled, federated } = req;
      return toNetwork(await ipam.command('network.update', { id, expectedRevision, name, description, mtu, tenant, routed, portSecurityEnabled, federated }, meta));
    }),
    GetNetwork: unary(deps, 'GetNetwork', async (req, { meta }) => toNetwork(await ipam.query('network.get', { id: req.id }, meta))),
    ListNetworks: unary(deps, 'ListNetworks', async (req, { meta }) => {
      const page = await ipam.query('network.list', paging(req), meta);
      return { items: page.items.map(toNetwork), next: page.next };
    }),
    DeleteNetwork: unary(deps, 'DeleteNetwork', (req, { meta }) => ipam.command('network.delete', { id: req.id }, meta)),
  };
}
