/**
 * `strata audit host` (issue 16) through the gRPC AuditService against the
 * real control plane plus hostview (startControlPlane with hypervisor hv1
 * provisioned; hostview as its own process and NATS user): an admin sees
 * the host's rules, sets and routes at a point, and what a membership
 * change and a rule added "by mistake" changed on it, each line with the
 * event (actor, reason) that made it. No agent or kernel is needed: the
 * lines are the agent's pure rendering of hostview's past view.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess, type ManagedProcess } from '@strata/lab';
import { startHostileControlPlane, type HostileControlPlane } from '../hostile/support/control-plane.js';

const HOSTVIEW_MAIN = fileURLToPath(new URL('../../services/hostview/dist/main.js', import.meta.url));

interface EventRef {
  seq: string;
  type: string;
  actor: string;
  reason: string;
}
interface Line {
  kind: string;
  where: string;
  text: string;
}
interface HostAt {
  at: { seq: string; requested: string };
  lines: Line[];
}
interface HostDiff {
  from: { seq: string };
  to: { seq: string };
  changes: Array<{ change: 'added' | 'removed'; line: Line; event: EventRef | null }>;
  events: Array<{ event: EventRef; keys: string[] }>;
  perEvent: boolean;
}

describe('strata audit host against the control plane and hostview', () => {
  let cp: HostileControlPlane;
  let hostview: ManagedProcess;
  let admin: string;
  let portIp: string;
  /** Log positions: before the port joined the group, after it joined, after the mistaken rule. */
  let beforeJoin: number;
  let joined: number;
  let mistake: number;

  const cli = (token: string, argv: string[]) => cp.cli.cli(token, argv);
  const json = <T>(token: string, argv: string[]) => cp.cli.json<T>(token, argv);

  beforeAll(async () => {
    cp = await startHostileControlPlane(['tenant-a'], { agents: ['hv1'] });
    hostview = startProcess('hostview', [process.execPath, HOSTVIEW_MAIN], {
      env: { NATS_URL: cp.natsUrl, NATS_USER: 'hostview', NATS_PASSWORD: cp.passwords['hostview']!, STRATA_HTTP_PORT: '0', STRATA_LOG_LEVEL: 'info', STRATA_SERVICE_NAME: 'hostview' },
    });
    await hostview.ready;
    admin = cp.tokens['admin']!;
    const a = cp.tokens['tenant-a']!;
    const pool = await json<{ id: string }>(admin, ['pool', 'create', '--cidr', '198.51.100.0/24', '--purpose', 'host-ip', '--name', 'host-ips']);
    await json(admin, ['hypervisor', 'register', 'hv1', '--vtep-ip', '198.18.0.11', '--host-pool', pool.id]);
    const net = await json<{ id: string }>(a, ['network', 'create', '--name', 'web']);
    await json(a, ['subnet', 'create', '--network', net.id, '--cidr', '10.0.0.0/24']);
    const group = await json<{ id: string }>(a, ['--reason', 'CHG-1: web tier', 'secgroup', 'create', '--name', 'web']);
    await json(a, ['--reason', 'CHG-1: http', 'secgroup', 'rule', 'create', group.id, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', '80']);
    const port = await json<{ id: string; fixedIps: Array<{ ip: string }> }>(a, ['port', 'create', '--network', net.id, '--host', 'hv1']);
    portIp = port.fixedIps[0]!.ip;
    beforeJoin = await cp.lastSeq();
    await json(a, ['--reason', 'CHG-2: web joins', 'port', 'set-groups', port.id, group.id]);
    joined = await cp.lastSeq();
    await json(a, ['--reason', 'oops: ssh for everyone', 'secgroup', 'rule', 'create', group.id, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', '22']);
    mistake = await cp.lastSeq();
  }, 180_000);

  afterAll(async () => {
    await hostview?.stop(5_000).catch(() => undefined);
    await cp?.destroy();
  });

  it("shows the host's lines at a point, named by the position used", async () => {
    const at = await json<HostAt>(admin, ['audit', 'host', 'hv1', '--at', String(joined)]);
    expect(at.at).toMatchObject({ seq: String(joined), requested: `position ${joined}` });
    expect(at.lines.length).toBeGreaterThan(0);
    expect(at.lines.some((l) => l.text.includes(portIp))).toBe(true);
    const text = await cli(admin, ['audit', 'host', 'hv1', '--at', String(joined)]);
    expect(text.code).toBe(0);
    expect(text.out).toContain(`host hv1 at position ${joined} (stored `);
    expect(text.out).toMatch(/^nft-\S+ {2}\S.*:$/m);
  });

  it('host diff: what the membership change and the mistaken rule changed, each line with its event', async () => {
    const join = await json<HostDiff>(admin, ['audit', 'host', 'hv1', '--from', String(beforeJoin), '--to', String(joined)]);
    expect(join.perEvent).toBe(true);
    expect(join.changes.length).toBeGreaterThan(0);
    expect(join.changes.every((c) => c.event?.seq === String(joined) && c.event.reason === 'CHG-2: web joins' && c.event.actor === 'tenant-a-user')).toBe(true);
    expect(join.events.map((e) => e.event.seq)).toEqual([String(joined)]);

    const oops = await json<HostDiff>(admin, ['audit', 'host', 'hv1', '--from', String(joined), '--to', String(mistake)]);
    const added = oops.changes.filter((c) => c.change === 'added');
    expect(added.some((c) => c.line.kind === 'nft-rule' && /\b22\b/.test(c.line.text))).toBe(true);
    expect(oops.changes.every((c) => c.event?.reason === 'oops: ssh for everyone')).toBe(true);

    const text = await cli(admin, ['audit', 'host', 'hv1', '--from', String(joined), '--to', String(mistake)]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^\+ nft-rule .*\b22\b.* position \d+, \S+, secgroup\.RuleAdded, actor tenant-a-user, reason "oops: ssh for everyone", correlation \S+$/m);
    // No --to: up to now, the same changes.
    const now = await json<HostDiff>(admin, ['audit', 'host', 'hv1', '--from', String(joined)]);
    expect(now.changes).toEqual(oops.changes);
  });
});
