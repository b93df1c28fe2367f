import type { ApplicationPrefixView } from '@strata/contracts';
import type { ApplicationPrefix, ApplicationPrefixServiceHandlers } from '@strata/proto';
import { paging, unary, type RpcDeps } from '../rpc.js';

export function toApplicationPrefix(v: ApplicationPrefixView): ApplicationPrefix {
  return { id: v.id, tenant: v.tenant, poolId: v.poolId, prefix: v.prefix, createdAt: v.createdAt };
}

export function applicationPrefixHandlers(deps: RpcDeps): ApplicationPrefixServiceHandlers {
  const { ipam } = deps;
  return {
    CreateApplicationPrefix: unary(deps, 'CreateApplicationPrefix', async (req, { meta }) => {
      const body = { tenant: req.tenant, poolId: req.poolId, prefix: req.prefix, length: req.length };
      return toApplicationPrefix(await ipam.command('appprefix.create', body, meta));
    }),
    GetApplicationPrefix: unary(deps, 'GetApplicationPrefix', async (req, { meta }) =>
      toApplicationPrefix(await ipam.query('appprefix.get', { id: req.id }, meta)),
    ),
    ListApplicationPrefixes: unary(deps, 'ListApplicationPrefixes', async (req, { meta }) => {
      const page = await ipam.query('appprefix.list', paging(req), meta);
      return { items: page.items.map(toApplicationPrefix), next: page.next };
    }),
    DeleteApplicationPrefix: unary(deps, 'DeleteApplicationPrefix', (req, { meta }) =>
      ipam.command('appprefix.delete', { id: req.id }, meta),
    ),
  };
}
