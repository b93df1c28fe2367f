import { PoolPurpose, type PoolView } from '@strata/contracts';
import { ValidationError } from '@strata/errors';
import { poolPurposeFromProto, poolPurposeToProto, type Pool, type PoolPurpose__Output, type PoolServiceHandlers } from '@strata/proto';
import { paging, unary, type RpcDeps } from '../rpc.js';

export function toPool(v: PoolView): Pool {
  return {
    id: v.id,
    name: v.name,
    cidr: v.cidr,
    purpose: poolPurposeToProto(v.purpose),
    ipVersion: v.ipVersion,
    allocated: v.allocated,
    createdAt: v.createdAt,
  };
}

/** The enum's zero value means the client did not choose: say so in the client's own terms. */
function purposeOf(p: PoolPurpose__Output): PoolPurpose {
  const purpose = poolPurposeFromProto(p);
  if (!(PoolPurpose as readonly string[]).includes(purpose)) {
    throw new ValidationError('purpose: required, one of POOL_PURPOSE_FLOATING_IP, POOL_PURPOSE_HOST_IP, POOL_PURPOSE_APPLICATION_PREFIX, POOL_PURPOSE_ROUTED', {
      field: 'purpose',
    });
  }
  return purpose as PoolPurpose;
}

/** Admin-managed: IPAM refuses tenant callers; the API only translates. */
export function poolHandlers(deps: RpcDeps): PoolServiceHandlers {
  const { ipam } = deps;
  return {
    CreatePool: unary(deps, 'CreatePool', async (req, { meta }) =>
      toPool(await ipam.command('pool.create', { name: req.name, cidr: req.cidr, purpose: purposeOf(req.purpose) }, meta)),
    ),
    GetPool: unary(deps, 'GetPool', async (req, { meta }) => toPool(await ipam.query('pool.get', { id: req.id }, meta))),
    ListPools: unary(deps, 'ListPools', async (req, { meta }) => {
      const page = await ipam.query('pool.list', paging(req), meta);
      return { items: page.items.map(toPool), next: page.next };
    }),
    DeletePool: unary(deps, 'DeletePool', (req, { meta }) => ipam.command('pool.delete', { id: req.id }, meta)),
  };
}
