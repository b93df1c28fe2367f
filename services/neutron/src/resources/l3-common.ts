/**
 * What the L3 resources (routers, floating IPs, external networks) share:
 * Neutron's error types for the services' refusals. (Body readers, paging
 * and times are the resource modules' common ones: body.ts, common.ts.)
 */
import { ErrorCode, toStrataError, type StrataError } from '@strata/errors';
import { badRequest as neutronBadRequest, NeutronHttpError } from '../errors.js';

/** neutron_lib BadRequest(resource, msg): "Bad <resource> request: <msg>." */
export const badRequest = (resource: 'router' | 'floatingip' | 'network', msg: string): NeutronHttpError => neutronBadRequest(resource, msg);

/** Neutron's NotFound type and text for each kind of resource a service names in a NotFoundError (`details.kind`). */
const NOT_FOUND: Readonly<Record<string, (id: string) => NeutronHttpError>> = {
  router: (id) => new NeutronHttpError(404, 'RouterNotFound', `Router ${id} could not be found`),
  subnet: (id) => new NeutronHttpError(404, 'SubnetNotFound', `Subnet ${id} could not be found.`),
  port: (id) => new NeutronHttpError(404, 'PortNotFound', `Port ${id} could not be found.`),
  network: (id) => new NeutronHttpError(404, 'NetworkNotFound', `Network ${id} could not be found.`),
  // An external network is a floating-IP pool: an unknown one is Neutron's unknown network.
  pool: (id) => new NeutronHttpError(404, 'NetworkNotFound', `Network ${id} could not be found.`),
  'floating IP': (id) => new NeutronHttpError(404, 'FloatingIPNotFound', `Floating IP ${id} could not be found`),
};

/**
 * A service's refusal as Neutron answers it: `typeOf` gives the Neutron
 * error for the refusals whose meaning is known here (or undefined); a
 * NOT_FOUND becomes the not-found of the kind of resource it names. The
 * rest (a stale revision among them: the core's 412) passes unchanged to
 * the core's generic mapping.
 */
export async function withNeutronTypes<T>(work: Promise<T>, typeOf: (e: StrataError) => NeutronHttpError | undefined = () => undefined): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof NeutronHttpError) throw err;
    const e = toStrataError(err);
    const typed = typeOf(e);
    if (typed) throw typed;
    const { kind, id } = e.details;
    if (e.code === ErrorCode.NotFound && typeof kind === 'string' && typeof id === 'string' && NOT_FOUND[kind]) throw NOT_FOUND[kind](id);
    throw err;
  }
}

/** The same refusal with Neutron's type and status (the service's message, which says what is wrong). */
export const typed = (status: number, type: string, e: StrataError): NeutronHttpError => new NeutronHttpError(status, type, e.message);
