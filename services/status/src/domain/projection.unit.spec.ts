import { describe, expect, it } from 'vitest';
import type { AgentHeartbeat, AgentReport } from '@strata/contracts';
import { agentState, currentReport, observe } from './agents.js';
import { knownHosts } from './hypervisor.js';
import { knownHypervisor, visiblePort, visibleResource } from './scope.js';
import { deletedBy, touchedBy } from './tracking.js';
import { statusFollows } from './evolve.js';
import { admin, errorOf, tenantA, tenantB, World } from './test/given.js';

const identity = { hostId: 'hv1', bootId: 'b1', version: '0.1.0', startedAt: 'T', sentAt: 'T' };
const report = (generation: number, over: Partial<AgentReport> = {}): AgentReport => ({
  ...identity,
  generation,
  appliedPosition: 10 * generation,
  viewRevision: generation,
  appliedAt: 'T',
  ports: [{ portId: 'p1', state: 'up', reason: '' }],
  error: null,
  ...over,
});
const heartbeat = (generation: number, over: Partial<AgentHeartbeat> = {}): AgentHeartbeat => ({ ...identity, generation, appliedPosition: 10 * generation, error: null, ...over });

describe('the projection: hypervisors, ports and owners from the log', () => {
  it('keeps registered hosts, the latest liveness decision, ports by the shared fold and the owners of resources', () => {
    const w = new World();
    w.hypervisor('hv1');
    w.hypervisor('hv2');
    w.deregister('hv2');
    const p = w.port(tenantA.tenant, 'hv1');
    w.bind(p, 'hv3', 'hv1');
    const n = w.network(tenantA.tenant);
    const g = w.group(tenantB.tenant);
    const c = w.chain(tenantA.tenant);
    const r = w.router(tenantB.tenant);
    expect(Object.keys(w.state.hypervisors)).toEqual(['hv1']);
    expect(w.state.ports[p]).toMatchObject({ tenant: tenantA.tenant, hostId: 'hv3' });
    expect(w.state.owners).toEqual({ network: { [n]: tenantA.tenant }, router: { [r]: tenantB.tenant }, 'security-group': { [g]: tenantB.tenant }, chain: { [c]: tenantA.tenant } });
    expect(w.state.seq).toBe(w.events.length);
  });

  it('scopes: another tenant\'s port or resource is NotFound like a missing one; admins see all', () => {
    const w = new World();
    const p = w.port(tenantA.tenant);
    const g = w.group(tenantA.tenant);
    expect(visiblePort(w.state, tenantA, p).id).toBe(p);
    expect(visiblePort(w.state, admin, p).id).toBe(p);
    expect(errorOf(() => visiblePort(w.state, tenantB, p))).toMatchObject({ code: 'NOT_FOUND', message: `port ${p} not found` });
    expect(visibleResource(w.state, tenantA, { kind: 'security-group', id: g })).toBe(tenantA.tenant);
    expect(errorOf(() => visibleResource(w.state, tenantB, { kind: 'security-group', id: g })).code).toBe('NOT_FOUND');
    expect(errorOf(() => visibleResource(w.state, tenantA, { kind: 'chain', id: g })).code).toBe('NOT_FOUND');
    expect(errorOf(() => knownHypervisor(w.state, 'hv9')).message).toBe('hypervisor hv9 not found');
  });

  it('knows hosts registered or with a liveness history', () => {
    const w = new World();
    w.hypervisor('hv2');
    w.hypervisor('hv1');
    expect(knownHosts(w.state)).toEqual(['hv1', 'hv2']);
  });

  it('tracks what an event changes: a created or moved port and its network, a group\'s rules and members, a chain; a deletion ends tracking', () => {
    const w = new World();
    const g = w.group(tenantA.tenant);
    const p = w.port(tenantA.tenant);
    const decoded = (i: number) => statusFollows.decode(w.events[i]!)!;
    expect(touchedBy(decoded(0))).toEqual([{ kind: 'security-group', id: g, tenant: tenantA.tenant }]);
    expect(touchedBy(decoded(1)).map((t) => t.kind)).toEqual(['port', 'network']);
    w.storeOf({ encode: (_t, d) => ({ version: 1, data: d }) }, 'ipam.PortDeleted', { context: 'ipam', type: 'network', id: 'n' }, { portId: p, releasedIps: [] }, tenantA.tenant);
    expect(deletedBy(decoded(2))).toEqual({ kind: 'port', id: p });
    expect(w.state.ports[p]).toBeUndefined();
  });
});

describe('observations: what the agents said', () => {
  it('takes a report as current for its process and generation; a heartbeat of a later generation asks for the report', () => {
    const first = observe(undefined, { kind: 'report', body: report(1) }, 1000);
    expect(first).toMatchObject({ changed: true, needReport: false });
    expect(currentReport(first.next)?.generation).toBe(1);
    const same = observe(first.next, { kind: 'heartbeat', body: heartbeat(1) }, 2000);
    expect(same).toMatchObject({ changed: false, needReport: false });
    expect(same.next.heard.at).toBe(2000);
    const later = observe(same.next, { kind: 'heartbeat', body: heartbeat(2) }, 3000);
    expect(later).toMatchObject({ changed: true, needReport: true });
    expect(later.next.appliedPosition).toBe(20);
    expect(currentReport(later.next)).toBeUndefined();
  });

  it('asks for a report when it hears a new process first by its heartbeat', () => {
    const first = observe(undefined, { kind: 'report', body: report(3) }, 0);
    expect(observe(first.next, { kind: 'heartbeat', body: heartbeat(3, { bootId: 'b2' }) }, 1)).toMatchObject({ changed: true, needReport: true });
    expect(observe(undefined, { kind: 'heartbeat', body: heartbeat(1) }, 1)).toMatchObject({ changed: true, needReport: true });
  });

  it('sees a change in a report\'s ports, and in the error', () => {
    const first = observe(undefined, { kind: 'report', body: report(1) }, 0);
    expect(observe(first.next, { kind: 'report', body: report(1, { ports: [{ portId: 'p1', state: 'down', reason: '' }] }) }, 1).changed).toBe(true);
    expect(observe(first.next, { kind: 'heartbeat', body: heartbeat(1, { error: 'x' }) }, 1).changed).toBe(true);
  });

  it('joins the observation with the log\'s decision: ports only from the current report', () => {
    const w = new World();
    w.hypervisor('hv1');
    const o = observe(observe(undefined, { kind: 'report', body: report(1) }, 0).next, { kind: 'heartbeat', body: heartbeat(2) }, 1).next;
    expect(agentState(w.state, 'hv1', o)).toMatchObject({ registered: true, alive: true, heard: true, appliedPosition: 20, ports: undefined });
    expect(agentState(w.state, 'hv2', undefined)).toMatchObject({ registered: false, heard: false, appliedPosition: null });
  });
});
