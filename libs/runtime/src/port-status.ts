/**
 * The status of ports as the front doors show it (the gRPC API's Port
 * message, the Neutron API's port `status`). A port read
 * never fails because the status service does not answer: the port is
 * IPAM's and is answered as IPAM has it, with status UNKNOWN and the reason
 * in status_reason (a platform polling for ACTIVE keeps polling; one reading
 * the port's addresses is not broken by a status outage).
 *
 * One status request per page (chunks of MAX_STATUS_PORTS for pages larger
 * than the status service takes at once), never one per port.
 */
import { MAX_STATUS_PORTS, type PortStatusView, type StatusContract } from '@strata/contracts';
import { toStrataError } from '@strata/errors';
import type { ContractClient } from './contract-client.js';
import type { Logger } from './logger.js';
import type { RequestMeta } from './messaging.js';

type StatusClient = Pick<ContractClient<StatusContract>, 'query'>;

export interface PortStatusFields {
  status: string;
  statusReason: string;
}

export const UNKNOWN_STATUS = 'UNKNOWN';

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Every port's status by id; a port the service did not answer for, or every port when it failed, is UNKNOWN with the reason. */
export async function portStatuses(status: StatusClient, ids: readonly string[], meta: RequestMeta, logger: Logger): Promise<Map<string, PortStatusFields>> {
  const out = new Map<string, PortStatusFields>();
  if (ids.length === 0) return out;
  let views: PortStatusView[];
  try {
    const replies = await Promise.all(chunks(ids, MAX_STATUS_PORTS).map((batch) => status.query('port.status', { ids: batch }, meta)));
    views = replies.flatMap((r) => r.items);
  } catch (err) {
    const e = toStrataError(err);
    logger.warn({ err: e, ports: ids.length }, 'port status unavailable; answering the ports with status UNKNOWN');
    for (const id of ids) out.set(id, { status: UNKNOWN_STATUS, statusReason: `status service unavailable (${e.code})` });
    return out;
  }
  for (const v of views) out.set(v.portId, { status: v.status, statusReason: v.reason });
  for (const id of ids) if (!out.has(id)) out.set(id, { status: UNKNOWN_STATUS, statusReason: 'no status reported for this port' });
  return out;
}
