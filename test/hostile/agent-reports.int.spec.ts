/**
 * Issue 15: the agent report boundary. An agent's report
 * (`strata.status.<host>`) and heartbeat (`strata.status.<host>.heartbeat`)
 * say what that host applied and whether it is alive; the status service
 * turns them into port status, "applied on n of m" and the hypervisor's
 * liveness events. The subject names the reporter, so an agent (compromised,
 * or buggy) that could publish another host's report could mark that host's
 * ports ACTIVE before they work, or keep a dead host alive. Likewise
 * `strata.agentctl.<host>.>` carries the status service's requests to one
 * agent: another agent must not hear them (nor answer in its place), and an
 * agent must not ask hostview for the positions of the whole cloud.
 *
 * Real components: nats-server with the production users rendered by
 * infra/nats/render-accounts.mjs for agents hv1 and hv2, ipam x2, secgroup,
 * nat and the api (startControlPlane); the agents' NATS users.
 */
import type { NatsConnection, Subscription } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentHeartbeatSubject,
  agentReportSubject,
  agentResyncSubject,
  HOSTVIEW_POSITIONS_SUBJECT,
  type AgentHeartbeat,
  type AgentReport,
} from '@strata/contracts';
import { waitFor } from '@strata/testing';
import { startHostileControlPlane, type HostileControlPlane } from './support/control-plane.js';

/** A connection and the permission violations the server reported to it (`<operation> <subject>`). */
interface Agent {
  nc: NatsConnection;
  violations: string[];
}

const identity = (hostId: string) => ({ hostId, bootId: `boot-${hostId}`, version: '0.1.0', startedAt: new Date().toISOString(), sentAt: new Date().toISOString() });
/** A report claiming every port of `hostId` is up at a position far ahead. */
const report = (hostId: string): AgentReport => ({
  ...identity(hostId),
  generation: 9,
  appliedPosition: 1_000_000,
  viewRevision: 1,
  appliedAt: new Date().toISOString(),
  ports: [{ portId: '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b', state: 'up', reason: '' }],
  error: null,
});
const heartbeat = (hostId: string): AgentHeartbeat => ({ ...identity(hostId), generation: 9, appliedPosition: 1_000_000, error: null });

describe('hostile: agent reports, heartbeats and requests', () => {
  let cp: HostileControlPlane;
  let hv1: Agent;
  let hv2: Agent;
  let admin: NatsConnection;
  /** Everything the status service would hear: `<subject> <hostId in the body>`. */
  const heard: string[] = [];

  const agent = async (user: string): Promise<Agent> => {
    const nc = await cp.connectAs(user);
    const violations: string[] = [];
    void (async () => {
      for await (const s of nc.status()) {
        const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
        if (s.type === 'error' && ctx) violations.push(`${ctx.operation} ${ctx.subject}`);
      }
    })();
    return { nc, violations };
  };

  /** Subscribe; the messages it gets, and whether the server ended it (a refused subscription ends with the violation). */
  const listen = (a: Agent, subject: string): { got: string[]; ended: () => string | undefined; sub: Subscription } => {
    const got: string[] = [];
    let ended: string | undefined;
    const sub = a.nc.subscribe(subject);
    void (async () => {
      for await (const m of sub) got.push(m.subject);
      ended = 'closed';
    })().catch((e: Error) => (ended = e.message));
    return { got, ended: () => ended, sub };
  };

  beforeAll(async () => {
    cp = await startHostileControlPlane(['alpha'], { agents: ['hv1', 'hv2'] });
    hv1 = await agent('agent-hv1');
    hv2 = await agent('agent-hv2');
    admin = await cp.connectAs('admin');
    admin.subscribe('strata.status.>', {
      callback: (_err, m) => {
        const body = m.json<{ hostId?: string }>();
        heard.push(`${m.subject} ${body.hostId ?? '?'}`);
      },
    });
    await admin.flush();
  });
  afterAll(async () => {
    await cp?.destroy();
  });

  it("an agent cannot publish another host's report or heartbeat; its own arrive; nothing is written", async () => {
    const before = await cp.eventCount();
    hv1.nc.publish(agentReportSubject('hv2'), JSON.stringify(report('hv2')));
    hv1.nc.publish(agentHeartbeatSubject('hv2'), JSON.stringify(heartbeat('hv2')));
    // Its own last: one publisher's messages arrive in order, so a forged one that got through would be heard before it.
    hv1.nc.publish(agentHeartbeatSubject('hv1'), JSON.stringify(heartbeat('hv1')));
    hv1.nc.publish(agentReportSubject('hv1'), JSON.stringify(report('hv1')));
    await hv1.nc.flush();
    await waitFor(() => heard.includes(`${agentReportSubject('hv1')} hv1`), { message: "hv1's own report heard" });
    expect(heard).toEqual([`${agentHeartbeatSubject('hv1')} hv1`, `${agentReportSubject('hv1')} hv1`]);
    await waitFor(() => hv1.violations.includes(`publish ${agentReportSubject('hv2')}`) && hv1.violations.includes(`publish ${agentHeartbeatSubject('hv2')}`), {
      message: 'both forgeries refused',
    });
    // hv2's own agent may: what stopped hv1 was the permission.
    hv2.nc.publish(agentReportSubject('hv2'), JSON.stringify(report('hv2')));
    await waitFor(() => heard.includes(`${agentReportSubject('hv2')} hv2`), { message: "hv2's own report heard" });
    expect(hv2.violations).toEqual([]);
    expect(await cp.eventCount()).toBe(before);
  });

  it("an agent hears the status service's requests to itself, not another host's, nor all of them", async () => {
    const own = listen(hv1, agentResyncSubject('hv1'));
    const other = listen(hv1, agentResyncSubject('hv2'));
    const all = listen(hv1, 'strata.agentctl.>');
    const anyHost = listen(hv1, 'strata.agentctl.*.report');
    const hv2own = listen(hv2, agentResyncSubject('hv2'));
    await hv1.nc.flush();
    await hv2.nc.flush();
    await waitFor(() => [other, all, anyHost].every((l) => l.ended() !== undefined), { message: 'the other subscriptions refused' });
    for (const [l, subject] of [
      [other, agentResyncSubject('hv2')],
      [all, 'strata.agentctl.>'],
      [anyHost, 'strata.agentctl.*.report'],
    ] as const) {
      expect(l.ended()).toMatch(/Permissions Violation for Subscription/);
      expect(hv1.violations).toContain(`subscription ${subject}`);
    }
    admin.publish(agentResyncSubject('hv2'));
    admin.publish(agentResyncSubject('hv1'));
    await admin.flush();
    await waitFor(() => own.got.length > 0 && hv2own.got.length > 0, { message: 'each agent hears its own request' });
    expect(own.got).toEqual([agentResyncSubject('hv1')]);
    expect(hv2own.got).toEqual([agentResyncSubject('hv2')]);
    expect([...other.got, ...all.got, ...anyHost.got]).toEqual([]);
    expect(own.ended()).toBeUndefined();
  });

  it("an agent cannot ask hostview for the cloud's positions", async () => {
    hv1.nc.publish(HOSTVIEW_POSITIONS_SUBJECT, JSON.stringify({ minSeq: 0 }));
    await hv1.nc.flush();
    await waitFor(() => hv1.violations.includes(`publish ${HOSTVIEW_POSITIONS_SUBJECT}`), { message: 'positions query refused' });
  });
});
