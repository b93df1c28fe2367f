/**
 * The auditor's question end to end (issue 16): "what did security group X
 * and the rules on hypervisor H look like at 14:03, and which call — by
 * whom, and why — changed them?"
 *
 * A namespace lab (two hypervisors with their agents, every service, the
 * gRPC API) and the real `strata` CLI. Alice builds a group step by step
 * with reasons, members join and leave, and Bob removes a rule "by
 * mistake", with a reason. After each step, once every hypervisor applied
 * it (the status service's barrier), the test captures hv1's kernel — the
 * agent's own reader and `nft -j list ruleset` of every namespace — and the
 * group as the API shows it. Then, and only then, it asks `strata audit`:
 *   - show at each step's position and at a time between steps: the group
 *     as it was then;
 *   - diff across the steps: each field change with its event, actor and
 *     reason;
 *   - blame: the fields Bob's mistake left, on Bob's event and reason;
 *   - host hv1 at each step: the lines equal what the agent had applied at
 *     that point (the capture), not what it has now;
 *   - host hv1 between two steps: each line change on the event that made
 *     it;
 *   - bad input: clear errors.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { JSONCodec, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredForView, renderHostLines, viewFromKeys } from '@strata/agent';
import { captureDiffers, captureKernel, type KernelCapture } from '@strata/agent/testkit';
import { HOSTVIEW_AT_SUBJECT, type HostLine, type HostviewAtReply } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { ADMIN, eventually, Lab, type Vm } from '@strata/lab';
import { tenantWithRouter, vmOn, type TenantSetup } from '../overlay/scenario.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
const TENANT = 'tenant-audit';

interface Point {
  step: string;
  seq: number;
  /** An instant after this step's events and before the next step's. */
  time: string;
  group: { name: string; description: string; rules: Array<{ id: string; portMin?: number }> };
  kernel: KernelCapture;
}
interface EventRef {
  seq: string;
  type: string;
  actor: string;
  reason: string;
  correlationId: string;
}
interface Position {
  seq: string;
  requested: string;
}

describe('audit by replay: a security group and hv1 at any point', () => {
  let lab: Lab;
  let t: TenantSetup;
  let api: { addr: string; tokens: Record<string, string> };
  let admin: NatsConnection;
  let store: JetStreamEventStore;
  const vms: Record<string, Vm> = {};
  const points: Point[] = [];
  let group = '';
  const rules: Record<string, string> = {};

  async function cli(who: string, argv: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [CLI, ...argv], { env: { ...process.env, STRATA_SERVER: api.addr, STRATA_TOKEN: api.tokens[who], STRATA_PLAINTEXT: '1' } });
    return stdout;
  }
  const json = async <T>(who: string, argv: string[]): Promise<T> => JSON.parse(await cli(who, [...argv, '-o', 'json'])) as T;
  /** A CLI call that must fail: its exit code and stderr. */
  async function refused(who: string, argv: string[]): Promise<{ code: number; stderr: string }> {
    try {
      await cli(who, argv);
    } catch (e) {
      const err = e as { code: number; stderr: string };
      return { code: err.code, stderr: err.stderr };
    }
    throw new Error(`strata ${argv.join(' ')} succeeded`);
  }

  /** After a step: every hypervisor applied everything up to now; then the log position, hv1's kernel and the group as the API shows it. */
  async function point(step: string): Promise<Point> {
    const seq = await store.lastSeq();
    await lab.realised(seq, 120, 200);
    const kernel = await captureKernel(lab.host('hv1').ns.name, `${lab.prefix}hv1-`);
    const shown = await json<Point['group']>('alice', ['secgroup', 'show', group]);
    const p: Point = { step, seq, time: new Date().toISOString(), group: shown, kernel };
    points.push(p);
    // The next step's events are stored strictly after `time`.
    await new Promise((r) => setTimeout(r, 5));
    return p;
  }

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 2 });
    api = await lab.startApi({ alice: { tenant: TENANT }, bob: { tenant: TENANT }, eve: { tenant: 'tenant-eve' }, admin: { tenant: 'ops', admin: true } });
    admin = await lab.natsUsers.connect('admin');
    store = await JetStreamEventStore.open(admin);
    t = await tenantWithRouter(lab, TENANT);
    vms.vm1 = await vmOn(lab, t, 'vm1', 0, 'hv1');
    vms.vm2 = await vmOn(lab, t, 'vm2', 0, 'hv2');

    group = (await json<{ id: string }>('alice', ['--reason', 'CHG-1: the web tier', 'secgroup', 'create', '--name', 'web'])).id;
    await point('created');
    const rule = async (name: string, reason: string, extra: string[]): Promise<void> => {
      rules[name] = (await json<{ id: string }>('alice', ['--reason', reason, 'secgroup', 'rule', 'create', group, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', ...extra])).id;
    };
    await rule('http', 'CHG-2: http from anywhere', ['--port', '80']);
    await point('http rule');
    await rule('https', 'CHG-3: https between web members', ['--port', '443', '--remote-group', group]);
    await point('https rule');
    await json('alice', ['--reason', 'CHG-4: vm1 is a web server', 'port', 'set-groups', vms.vm1!.port.id, group]);
    await point('vm1 joins');
    await json('alice', ['--reason', 'CHG-5: vm2 is a web server', 'port', 'set-groups', vms.vm2!.port.id, group]);
    await point('vm2 joins');
    await json('bob', ['--reason', 'CHG-6: drop the legacy health-check port', 'secgroup', 'rule', 'delete', group, rules.http!]);
    await point('http rule removed by mistake');
    await json('alice', ['--reason', 'CHG-7: vm2 retired', 'port', 'set-groups', vms.vm2!.port.id, '--none']);
    await point('vm2 leaves');
  }, 600_000);

  afterAll(async () => {
    await admin?.close();
    await lab?.destroy();
  });

  const at = (p: Point): string => String(p.seq);

  it('shows the group as it was at each step, by position and by time, naming the position used', async () => {
    for (const p of points) {
      for (const asked of [at(p), p.time]) {
        const shown = await json<{ at: Position; viewJson: string }>('alice', ['audit', 'show', 'security-group', group, '--at', asked]);
        expect(shown.at.seq, `${p.step}: asked ${asked}`).toBe(String(p.seq));
        const view = JSON.parse(shown.viewJson) as { name: string; description: string; rules: Array<{ id: string; portMin?: number | null }> };
        expect(view.name).toBe(p.group.name);
        expect(view.rules.map((r) => r.id).sort(), `${p.step}: rules`).toEqual(p.group.rules.map((r) => r.id).sort());
      }
    }
    const human = await cli('alice', ['audit', 'show', 'security-group', group, '--at', points[1]!.time]);
    expect(human).toContain(`position ${points[1]!.seq}`);
  });

  it('diffs field by field, each change with its event, actor and reason: the mistake is Bob’s, with his reason', async () => {
    const d = await json<{ changes: Array<{ path: string; beforeJson?: string; afterJson?: string; event: EventRef }> }>('alice', [
      'audit', 'diff', 'security-group', group, '--from', at(points[0]!), '--to', at(points[6]!),
    ]);
    const byPath = (prefix: string) => d.changes.filter((c) => c.path.startsWith(prefix));
    expect(byPath(`rules[${rules.https}]`).every((c) => c.event.actor === 'alice' && c.event.reason === 'CHG-3: https between web members')).toBe(true);
    const http = byPath(`rules[${rules.http}]`);
    // Added by Alice, then removed by Bob: both in the interval, in log order.
    expect(http.filter((c) => c.afterJson !== undefined && c.beforeJson === undefined).every((c) => c.event.actor === 'alice' && c.event.reason === 'CHG-2: http from anywhere')).toBe(true);
    const removed = http.filter((c) => c.afterJson === undefined);
    expect(removed.length).toBeGreaterThan(0);
    expect(removed.every((c) => c.event.actor === 'bob' && c.event.reason === 'CHG-6: drop the legacy health-check port' && c.event.type === 'secgroup.RuleRemoved')).toBe(true);
    expect(Number(removed[0]!.event.seq)).toBeGreaterThan(points[4]!.seq);
    expect(Number(removed[0]!.event.seq)).toBeLessThanOrEqual(points[5]!.seq);
  });

  it('blames each field of the group on the event that last set it', async () => {
    const b = await json<{ fields: Array<{ path: string; event: EventRef }> }>('alice', ['audit', 'blame', 'security-group', group]);
    const of = (path: string) => b.fields.find((f) => f.path === path)?.event;
    expect(of('name')).toMatchObject({ actor: 'alice', reason: 'CHG-1: the web tier' });
    expect(of(`rules[${rules.https}].portMin`)).toMatchObject({ actor: 'alice', reason: 'CHG-3: https between web members' });
    expect(b.fields.some((f) => f.path.startsWith(`rules[${rules.http}]`))).toBe(false);
  });

  it('renders hv1 at each step exactly as its agent had programmed the kernel at that point', async () => {
    const audit = await lab.natsUsers.connect('audit');
    const codec = JSONCodec<{ ok: boolean; result: HostviewAtReply }>();
    try {
      for (const [i, p] of points.entries()) {
        const host = await json<{ at: Position; lines: HostLine[] }>('admin', ['audit', 'host', 'hv1', '--at', at(p)]);
        expect(host.at.seq).toBe(String(p.seq));
        // The view at that point, for what the agent leaves to the kernel (link MACs, bridge-port flags): see the testkit.
        const reply = codec.decode((await audit.request(HOSTVIEW_AT_SUBJECT, JSON.stringify({ hostId: 'hv1', toSeq: p.seq }), { timeout: 10_000 })).data);
        expect(reply.ok).toBe(true);
        const options = { nsPrefix: `${lab.prefix}hv1-` };
        expect(host.lines).toEqual(renderHostLines('hv1', reply.result.view, options));
        const { desired } = desiredForView(viewFromKeys('hv1', reply.result.view), options);
        expect(await captureDiffers(p.kernel, host.lines, desired.kernel, `${lab.prefix}scr${i}-`), p.step).toEqual([]);
        // The comparison has teeth: the kernel after vm1 joined (its rules now on hv1) is not the rendering of the step before.
        if (p.step === 'vm1 joins') {
          const previous = await json<{ lines: HostLine[] }>('admin', ['audit', 'host', 'hv1', '--at', at(points[i - 1]!)]);
          expect((await captureDiffers(p.kernel, previous.lines, desired.kernel, `${lab.prefix}neg-`)).length).toBeGreaterThan(0);
        }
      }
    } finally {
      await audit.close();
    }
    // The points really differ on hv1: a rule, then a member, each visible.
    const lines = async (p: Point) => (await json<{ lines: HostLine[] }>('admin', ['audit', 'host', 'hv1', '--at', at(p)])).lines.map((l) => `${l.kind} ${l.where} ${l.text}`);
    const [joined, left] = [await lines(points[4]!), await lines(points[6]!)];
    expect(joined.some((l) => l.startsWith('nft-element') && l.endsWith(vms.vm2!.ip))).toBe(true);
    expect(left.some((l) => l.startsWith('nft-element') && l.endsWith(vms.vm2!.ip))).toBe(false);
  });

  it('attributes each change of hv1 between two points to the event that made it', async () => {
    const d = await json<{ changes: Array<{ change: string; line: HostLine; event: EventRef | null }>; perEvent: boolean }>('admin', [
      'audit', 'host', 'hv1', '--from', at(points[3]!), '--to', at(points[6]!),
    ]);
    expect(d.perEvent).toBe(true);
    const member = d.changes.filter((c) => c.line.kind === 'nft-element' && c.line.text === vms.vm2!.ip);
    expect(member.map((c) => [c.change, c.event?.actor, c.event?.reason])).toEqual([
      ['added', 'alice', 'CHG-5: vm2 is a web server'],
      ['removed', 'alice', 'CHG-7: vm2 retired'],
    ]);
    const dport80 = d.changes.filter((c) => c.line.kind === 'nft-rule' && /dport 80\b/.test(c.line.text));
    expect(dport80.length).toBeGreaterThan(0);
    expect(dport80.every((c) => c.change === 'removed' && c.event?.actor === 'bob' && c.event.reason === 'CHG-6: drop the legacy health-check port')).toBe(true);
  });

  it('refuses bad questions clearly and answers nothing across tenants', async () => {
    const before = await refused('alice', ['audit', 'show', 'security-group', group, '--at', '2001-01-01T00:00:00Z']);
    expect(before.stderr).toMatch(/INVALID_ARGUMENT.*before the log began/s);
    const past = await refused('alice', ['audit', 'show', 'security-group', group, '--at', String(points.at(-1)!.seq + 1_000_000)]);
    expect(past.stderr).toMatch(/INVALID_ARGUMENT.*past the end of the log/s);
    const unknown = await refused('alice', ['audit', 'show', 'security-group', '00000000-0000-4000-8000-000000000000', '--at', at(points[0]!)]);
    const foreign = await refused('eve', ['audit', 'show', 'security-group', group, '--at', at(points[0]!)]);
    expect(unknown.stderr).toMatch(/NOT_FOUND/);
    // Another tenant's group is missing to eve in the same words as a group that never existed.
    expect(foreign.stderr.replaceAll(group, 'X')).toBe(unknown.stderr.replaceAll('00000000-0000-4000-8000-000000000000', 'X'));
    const host = await refused('alice', ['audit', 'host', 'hv1', '--at', at(points[0]!)]);
    expect(host.stderr).toMatch(/PERMISSION_DENIED/);
  });
});
