/**
 * State at any point, for the status service: for random logs, a host's
 * liveness as `history` rebuilds it at position S (its own aggregate's
 * events only, folded from empty) equals the liveness in the full fold of
 * every event up to S — IPAM's hypervisors and the other contexts' events
 * the service follows included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '@strata/errors';
import { InMemoryEventStore, newEventId, type AggregateRef, type StoredEvent } from '@strata/eventlog';
import { CLOUD_AGGREGATE, domainEvents, hypervisorStatusAggregate, securityGroupAggregate, versionAt } from '@strata/contracts';
import { resourceHistory } from '@strata/service-kit';
import { admin, tenantA } from '@strata/service-kit/testing';
import { applyStored } from './evolve.js';
import { historyView } from './history.js';
import { initialState } from './state.js';

const HOSTS = ['hv1', 'hv2', 'hv3'] as const;
type Step =
  | { kind: 'register' | 'deregister' | 'down' | 'up'; host: (typeof HOSTS)[number]; restarted: boolean }
  | { kind: 'noise' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom('register', 'deregister', 'down', 'up'), host: fc.constantFrom(...HOSTS), restarted: fc.boolean() }),
  fc.constant({ kind: 'noise' as const }),
);

async function logOf(steps: Step[]): Promise<{ store: InMemoryEventStore; events: StoredEvent[] }> {
  const store = new InMemoryEventStore({ catalog: domainEvents });
  const append = async (aggregate: AggregateRef, type: string, data: unknown, tenant: string): Promise<void> => {
    await store.append(aggregate, { id: newEventId(), type, version: 1, aggregate, tenant, actor: 'status', correlationId: 'c', causationId: null, occurredAt: '2026-12-06T14:00:00.000Z', data }, { expectedVersion: 'any' });
  };
  let n = 0;
  for (const s of steps) {
    n++;
    if (s.kind === 'noise') {
      const groupId = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      await append(securityGroupAggregate(groupId), 'secgroup.GroupCreated', { groupId, name: 'g', description: '', isDefault: false, rules: [] }, 'tenant-a');
    } else if (s.kind === 'register') {
      await append(CLOUD_AGGREGATE, 'ipam.HypervisorRegistered', { hostId: s.host, vtepIp: '198.18.0.11', publicIp: '198.51.100.1', hostPoolId: 'pool' }, '_system');
    } else if (s.kind === 'deregister') {
      await append(CLOUD_AGGREGATE, 'ipam.HypervisorDeregistered', { hostId: s.host, publicIp: '198.51.100.1' }, '_system');
    } else if (s.kind === 'down') {
      await append(hypervisorStatusAggregate(s.host), 'status.HypervisorAgentDown', { hostId: s.host, lastSeenAt: '2026-12-06T13:59:00.000Z', timeoutMs: 15000, bootId: `b${n}` }, '_system');
    } else {
      await append(hypervisorStatusAggregate(s.host), 'status.HypervisorAgentUp', { hostId: s.host, bootId: `b${n}`, version: '1', restarted: s.restarted }, '_system');
    }
  }
  const events: StoredEvent[] = [];
  for await (const e of store.read()) events.push(e);
  return { store, events };
}

const source = (store: InMemoryEventStore) => ({ store, context: 'status', initial: initialState, fold: applyStored, view: historyView });

async function historyViewAt(store: InMemoryEventStore, host: string, seq: number): Promise<unknown> {
  try {
    const h = await resourceHistory(source(store), admin, { kind: 'hypervisor-liveness', id: host, aggregateId: host, toSeq: seq });
    return versionAt(h.versions, seq)?.view ?? null;
  } catch (e) {
    if (e instanceof NotFoundError) return null;
    throw e;
  }
}

describe('status history: the state at any position', () => {
  it('equals the full fold of every event up to that position, for every host', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        const { store, events } = await logOf(steps);
        const full = initialState();
        for (const e of events) {
          applyStored(full, e);
          for (const host of HOSTS) {
            expect(await historyViewAt(store, host, e.seq)).toEqual(historyView(full, 'hypervisor-liveness', host)?.view ?? null);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('reads only the host’s own aggregate, and is an operator resource: NOT_FOUND to a tenant', async () => {
    const { store, events } = await logOf([
      { kind: 'register', host: 'hv1', restarted: false },
      { kind: 'noise' },
      { kind: 'down', host: 'hv1', restarted: false },
      { kind: 'noise' },
      { kind: 'up', host: 'hv1', restarted: true },
    ]);
    const h = await resourceHistory(source(store), admin, { kind: 'hypervisor-liveness', id: 'hv1', aggregateId: 'hv1', toSeq: events.length });
    expect(h.eventsRead).toBe(2);
    expect(h.versions.map((v) => [v.event.seq, v.view?.['alive']])).toEqual([
      [3, false],
      [5, true],
    ]);
    await expect(resourceHistory(source(store), tenantA, { kind: 'hypervisor-liveness', id: 'hv1', aggregateId: 'hv1', toSeq: events.length })).rejects.toThrow(NotFoundError);
  });
});
