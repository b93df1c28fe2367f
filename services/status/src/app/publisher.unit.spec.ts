/**
 * Which status changes are published, and when: the publisher and the reader
 * over the projection's state, agents' observations and hostview's answers
 * given as a table (hostview's side of the positions query as its contract
 * says it answers: per resource the hosts holding it and their positions).
 */
import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { realisedHypervisorSubject, realisedSubject, type AgentReport, type StatusChange } from '@strata/contracts';
import { createLogger, createMetrics } from '@strata/runtime';
import { waitFor } from '@strata/testing';
import { observe, type Observation } from '../domain/agents.js';
import { tenantA, World } from '../domain/test/given.js';
import type { AskHostview } from './hostview.js';
import { ChangePublisher } from './publisher.js';
import { StatusReader } from './reader.js';

class Setup {
  readonly world = new World();
  readonly sent: Array<{ subject: string; change: StatusChange }> = [];
  readonly observations = new Map<string, Observation>();
  /** `kind/id` → holders; every host's latest position. */
  readonly holders = new Map<string, Array<{ hostId: string; position: number }>>();
  readonly publisher: ChangePublisher;
  private now = 0;

  constructor() {
    const nc = { isClosed: () => false, publish: (subject: string, data: string) => this.sent.push({ subject, change: JSON.parse(data) as StatusChange }) } as unknown as NatsConnection;
    const ask: AskHostview = async (minSeq, resource) => ({ seq: minSeq, hosts: [], holders: resource ? (this.holders.get(`${resource.kind}/${resource.id}`) ?? []) : [] });
    const reader = new StatusReader({ get: (h) => this.observations.get(h) }, ask);
    this.publisher = new ChangePublisher({
      nc,
      state: () => this.world.state,
      reader,
      logger: createLogger('test', 'silent'),
      metrics: createMetrics('status-test'),
      now: () => this.now,
      trackMs: 60_000,
      sweepMs: 60_000,
    });
  }

  /** The last event stored, as the projection hands it to the publisher. */
  applied(): void {
    this.publisher.onEvent(this.world.events.at(-1)!);
  }

  report(hostId: string, r: Partial<AgentReport>): void {
    const body: AgentReport = { hostId, bootId: 'b', version: 'v', startedAt: 'T', sentAt: 'T', generation: 1, appliedPosition: 10, viewRevision: 1, appliedAt: 'T', ports: [], error: null, ...r };
    this.observations.set(hostId, observe(this.observations.get(hostId), { kind: 'report', body }, this.now).next);
    this.publisher.onHostChanged(hostId);
  }

  async settled(): Promise<void> {
    // A pass runs at most once at a time; an empty schedule resolves when it is done.
    await waitFor(() => (this.publisher as unknown as { running: unknown }).running === undefined, { message: 'publisher idle' });
  }

  portChanges(portId: string) {
    return this.sent.filter((s) => s.subject === realisedSubject(tenantA.tenant, 'port', portId)).map((s) => (s.change.kind === 'port' ? [s.change.status.status, s.change.status.reason] : []));
  }
}

describe('change publication', () => {
  it('publishes a new port\'s status on its tenant\'s subject, then ACTIVE once its host and peer applied it, each change once', async () => {
    const t = new Setup();
    t.world.hypervisor('hv1');
    t.world.hypervisor('hv2');
    const p = t.world.port(tenantA.tenant, 'hv1');
    t.holders.set(`port/${p}`, [
      { hostId: 'hv1', position: 20 },
      { hostId: 'hv2', position: 20 },
    ]);
    t.applied();
    await t.settled();
    expect(t.portChanges(p)).toEqual([['BUILD', 'agent on hv1 not heard yet']]);

    t.report('hv1', { appliedPosition: 20, ports: [{ portId: p, state: 'up', reason: '' }] });
    await t.settled();
    t.report('hv2', { appliedPosition: 20 });
    await t.settled();
    // The same report again changes nothing: nothing published.
    t.report('hv2', { appliedPosition: 20 });
    await t.settled();
    expect(t.portChanges(p)).toEqual([
      ['BUILD', 'agent on hv1 not heard yet'],
      ['BUILD', 'waiting for peers: agent on hv2 not heard yet'],
      ['ACTIVE', ''],
    ]);
    // Hypervisor changes go to the admins' subject only.
    expect(t.sent.filter((s) => s.subject === realisedHypervisorSubject('hv1')).length).toBe(1);
    expect(t.sent.every((s) => s.subject.startsWith(`strata.realised.${tenantA.tenant}.`) || s.subject.startsWith('strata.realised._admin.hypervisor.'))).toBe(true);
  });

  it('a settled port is re-derived on its host\'s news: unplugged → DOWN', async () => {
    const t = new Setup();
    t.world.hypervisor('hv1');
    const p = t.world.port(tenantA.tenant, 'hv1');
    t.holders.set(`port/${p}`, [{ hostId: 'hv1', position: 20 }]);
    t.report('hv1', { appliedPosition: 20, ports: [{ portId: p, state: 'up', reason: '' }] });
    t.applied();
    await t.settled();
    t.report('hv1', { generation: 2, appliedPosition: 20, ports: [{ portId: p, state: 'down', reason: '' }] });
    await t.settled();
    expect(t.portChanges(p)).toEqual([
      ['ACTIVE', ''],
      ['DOWN', 'not plugged on hv1'],
    ]);
  });

  it('tracks a security group changed by an event until it is realised, publishing "n of m" as hosts catch up', async () => {
    const t = new Setup();
    t.world.hypervisor('hv1');
    t.world.hypervisor('hv2');
    const g = t.world.group(tenantA.tenant);
    t.holders.set(`security-group/${g}`, [
      { hostId: 'hv1', position: 30 },
      { hostId: 'hv2', position: 30 },
    ]);
    t.report('hv1', { appliedPosition: 30 });
    t.applied();
    await t.settled();
    t.report('hv2', { appliedPosition: 30 });
    await t.settled();
    const counts = t.sent
      .filter((s) => s.subject === realisedSubject(tenantA.tenant, 'security-group', g))
      .map((s) => (s.change.kind === 'security-group' ? `${s.change.realisation.applied}/${s.change.realisation.hosts}` : ''));
    expect(counts).toEqual(['1/2', '2/2']);
    expect(t.publisher.trackedCount).toBe(0);
  });
});
