/**
 * Issue 15: the realisation-status boundary on NATS, against the control
 * plane as production runs it (startControlPlane: the status service among
 * the real processes, nats-server with the users of render-accounts.mjs).
 *
 * - The status user writes only its own context: appending IPAM's or
 *   secgroup's events is refused and the log does not move.
 * - It hears agents but cannot speak for one: publishing a report or a
 *   heartbeat on an agent's subject is refused, and nobody hears it.
 * - An agent cannot publish status changes (`strata.realised.>`), neither a
 *   tenant's nor an admin's: refused, nobody hears them; the status
 *   service's own change for that host's real heartbeat does arrive (the
 *   control).
 */
import { headers, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentHeartbeatSubject, agentReportSubject, realisedHypervisorSubject, realisedSubject, type AgentHeartbeat, type StatusChange } from '@strata/contracts';
import { waitFor } from '@strata/testing';
import { startHostileControlPlane, type HostileControlPlane } from './support/control-plane.js';

/** A connection and the permission violations the server reported to it. */
interface Watched {
  nc: NatsConnection;
  errors: string[];
}

describe('hostile: the status service\'s NATS permissions', () => {
  let cp: HostileControlPlane;
  let status: Watched;
  let hv1: Watched;
  /** What the operator hears on agents' and status subjects. */
  const heard: Array<{ subject: string; body: string }> = [];

  const watched = async (user: string): Promise<Watched> => {
    const nc = await cp.connectAs(user);
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) {
        const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
        if (s.type === 'error' && ctx) errors.push(`${ctx.operation} ${ctx.subject}`);
      }
    })();
    return { nc, errors };
  };
  const refused = async (w: Watched, subject: string, body = '{}'): Promise<void> => {
    w.nc.publish(subject, body);
    await w.nc.flush();
    await waitFor(() => w.errors.includes(`publish ${subject}`), { message: `publish on ${subject} refused` });
  };

  beforeAll(async () => {
    cp = await startHostileControlPlane(['alpha'], { agents: ['hv1'] });
    const pool = await cp.cli.json<{ id: string }>(cp.tokens['admin']!, ['pool', 'create', '--cidr', '203.0.113.0/24', '--purpose', 'host-ip']);
    await cp.cli.json(cp.tokens['admin']!, ['hypervisor', 'register', 'hv1', '--vtep-ip', '198.18.0.1', '--host-pool', pool.id]);
    const operator = await cp.connectAs('admin');
    for (const subject of ['strata.status.>', 'strata.realised.>']) {
      operator.subscribe(subject, { callback: (_e, m) => heard.push({ subject: m.subject, body: m.string() }) });
    }
    await operator.flush();
    status = await watched('status');
    hv1 = await watched('agent-hv1');
  });
  afterAll(async () => {
    await cp?.destroy();
  });

  it('the status user cannot append another context\'s events: refused, the log does not move', async () => {
    const before = await cp.lastSeq();
    for (const subject of ['strata.evt.ipam.network.x', 'strata.evt.secgroup.group.x', 'strata.evt.chaining.chain.x']) {
      const h = headers();
      h.set('Nats-Msg-Id', `status-forgery-${subject}`);
      await expect(status.nc.jetstream().publish(subject, new TextEncoder().encode('{}'), { timeout: 2000, headers: h })).rejects.toThrow();
    }
    expect(await cp.lastSeq()).toBe(before);
  });

  it('the status user cannot speak for an agent: a report or heartbeat on an agent\'s subject is refused and nobody hears it', async () => {
    const forged: AgentHeartbeat = { hostId: 'hv1', bootId: 'forged', version: 'x', startedAt: 'T', sentAt: 'T', generation: 1, appliedPosition: 1_000_000, error: null };
    await refused(status, agentReportSubject('hv1'), JSON.stringify(forged));
    await refused(status, agentHeartbeatSubject('hv1'), JSON.stringify(forged));
    // The control, after the refusals: hv1's own agent's heartbeat reaches the operator; the forged ones never did.
    const real: AgentHeartbeat = { ...forged, bootId: 'real', appliedPosition: null };
    hv1.nc.publish(agentHeartbeatSubject('hv1'), JSON.stringify(real));
    await waitFor(() => heard.some((m) => m.subject === agentHeartbeatSubject('hv1') && m.body.includes('"real"')), { message: 'the agent heard' });
    expect(heard.filter((m) => m.body.includes('forged'))).toEqual([]);
  });

  it('an agent cannot publish status changes, a tenant\'s or an admin\'s: refused and unheard; the status service\'s own change arrives', async () => {
    const fake: StatusChange = {
      kind: 'hypervisor',
      tenant: '',
      id: 'hv1',
      hypervisor: { hostId: 'hv1', registered: true, alive: true, lastSeenAt: null, bootId: 'forged', version: null, appliedPosition: null, viewPosition: null, error: null, since: null },
    };
    await refused(hv1, realisedHypervisorSubject('hv1'), JSON.stringify(fake));
    await refused(hv1, realisedSubject('alpha', 'port', '00000000-0000-4000-8000-000000000001'), JSON.stringify(fake));
    // The control: hv1's agent heartbeats (as itself), the status service publishes hv1's change.
    const real: AgentHeartbeat = { hostId: 'hv1', bootId: 'real-2', version: '0.1.0', startedAt: 'T', sentAt: 'T', generation: 1, appliedPosition: null, error: null };
    hv1.nc.publish(agentHeartbeatSubject('hv1'), JSON.stringify(real));
    await waitFor(() => heard.some((m) => m.subject === realisedHypervisorSubject('hv1') && m.body.includes('"real-2"')), { message: 'the status service\'s change', timeoutMs: 15_000 });
    expect(heard.filter((m) => m.subject.startsWith('strata.realised.') && m.body.includes('forged'))).toEqual([]);
  });
});
