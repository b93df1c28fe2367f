/**
 * WatchStatus: status changes as the status service publishes them on
 * `strata.realised.<tenant>.<kind>.<id>`. A tenant's watch subscribes to
 * its own tenant's subjects only, so another tenant's change never reaches
 * it (the scope is the subscription, not a filter); an admin may watch one
 * tenant or everything, hypervisors (`strata.realised._admin.…`) included.
 *
 * Limits: the same as every stream of the API (transport.ts: connections,
 * streams per connection, keepalive), ended on shutdown like Watch; and a
 * watcher that does not read lets at most MAX_STATUS_WATCH_BACKLOG changes
 * wait for it before its watch is ended with RESOURCE_EXHAUSTED (changes are
 * core NATS messages: nothing holds them back for a slow reader).
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { NatsConnection } from 'nats';
import { REALISED_ALL, TenantId, realisedTenantFilter, type StatusChange as StatusChangeView } from '@strata/contracts';
import { ErrorCode, PermissionDeniedError, StrataError, ValidationError } from '@strata/errors';
import type { Logger } from '@strata/runtime';
import type { StatusChange, WatchStatusRequest__Output } from '@strata/proto';
import type { Principal } from './auth.js';
import { toServiceError } from './errors.js';
import { toHypervisorStatus, toRealisation } from './handlers/status.js';
import { withCall, type RpcDeps } from './rpc.js';
import { send } from './stream-write.js';

/** Changes waiting for one slow watcher before its watch is ended. */
export const MAX_STATUS_WATCH_BACKLOG = 10_000;

/** The subject a caller's watch subscribes to. */
export function statusWatchSubject(req: WatchStatusRequest__Output, principal: Principal): string {
  if (req.tenant === undefined) return principal.admin ? REALISED_ALL : realisedTenantFilter(principal.tenant);
  if (!principal.admin && req.tenant !== principal.tenant) {
    throw new PermissionDeniedError(`tenant ${principal.tenant} may only watch its own status, not that of ${req.tenant}`, { field: 'tenant' });
  }
  if (!TenantId.safeParse(req.tenant).success) throw new ValidationError('tenant: must be a tenant id (1-63 of a-z 0-9 _ -)', { field: 'tenant' });
  return realisedTenantFilter(req.tenant);
}

/** A published change as the API's StatusChange; undefined for one that does not have the contract's shape. */
export function toStatusChange(v: StatusChangeView): StatusChange | undefined {
  const head = { kind: v.kind, tenant: v.tenant, id: v.id };
  if (v.kind === 'hypervisor') return v.hypervisor ? { ...head, hypervisor: toHypervisorStatus(v.hypervisor) } : undefined;
  if (v.kind === 'port') return v.status?.realisation ? { ...head, realisation: toRealisation(v.status.realisation, v.status) } : undefined;
  return v.realisation ? { ...head, realisation: toRealisation(v.realisation) } : undefined;
}

export class StatusWatch {
  private readonly watches = new Set<() => void>();
  private closing = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly deps: RpcDeps,
    private readonly logger: Logger,
  ) {}

  /** End every WatchStatus with UNAVAILABLE so clients watch again (on another instance). */
  closeAll(): void {
    this.closing = true;
    for (const stop of this.watches) stop();
  }

  async watch(call: ServerWritableStream<WatchStatusRequest__Output, StatusChange>): Promise<void> {
    try {
      await withCall(this.deps, 'WatchStatus', call.metadata, async ({ principal }) => {
        const subject = statusWatchSubject(call.request, principal);
        const sub = this.nc.subscribe(subject);
        const stop = (): void => sub.unsubscribe();
        call.once('cancelled', stop);
        this.watches.add(stop);
        try {
          for await (const m of sub) {
            if (call.cancelled) break;
            if (sub.getPending() > MAX_STATUS_WATCH_BACKLOG) {
              throw new StrataError(ErrorCode.ResourceExhausted, `more than ${MAX_STATUS_WATCH_BACKLOG} status changes waited for this watcher: read faster, then watch again`);
            }
            const change = this.decode(() => m.json<StatusChangeView>(), m.subject);
            // The subscription is the scope; the check is for a publisher that put a change under the wrong tenant.
            if (change === undefined || (!principal.admin && change.tenant !== principal.tenant)) continue;
            await send(call, change);
          }
        } finally {
          this.watches.delete(stop);
          call.off('cancelled', stop);
          if (!sub.isClosed()) sub.unsubscribe();
        }
        if (this.closing) throw new StrataError(ErrorCode.Unavailable, 'API server shutting down: watch again');
      });
      if (!call.cancelled) call.end();
    } catch (err) {
      if (!call.cancelled) call.emit('error', toServiceError(err));
    }
  }

  private decode(json: () => StatusChangeView, subject: string): StatusChange | undefined {
    try {
      const change = toStatusChange(json());
      if (change === undefined) this.logger.warn({ subject }, 'status change without its details: skipped');
      return change;
    } catch (err) {
      this.logger.warn({ subject, err }, 'malformed status change: skipped');
      return undefined;
    }
  }
}
