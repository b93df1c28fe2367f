/**
 * `strata audit` (issue 16) through the gRPC AuditService against the real
 * control plane (startControlPlane: nats-server with the production users,
 * ipam x2, secgroup, nat, chaining, status, audit and the api as
 * processes): a security group changed several times with --reason, then
 * shown, diffed and blamed at positions and times; another tenant, bad
 * points and a tenant asking for a host get clear errors, and no audit
 * question writes an event.
 */
import { status } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { Client, Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostileControlPlane, type HostileControlPlane } from '../hostile/support/control-plane.js';

interface EventRef {
  seq: string;
  storedAt: string;
  type: string;
  actor: string;
  reason: string;
  correlationId: string;
}
interface Position {
  seq: string;
  storedAt: string;
  requested: string;
}
interface Show {
  at: Position;
  viewJson: string;
  lastChange: EventRef | null;
}
interface Diff {
  from: Position;
  to: Position;
  changes: Array<{ path: string; beforeJson?: string; afterJson?: string; event: EventRef }>;
}
interface Blame {
  at: Position;
  fields: Array<{ path: string; valueJson: string; event: EventRef }>;
}
interface Rule {
  id: string;
  portMin?: number;
}

describe('strata audit against the control plane', () => {
  let cp: HostileControlPlane;
  let a: string;
  let b: string;
  let group: string;
  let http: Rule;
  let https: Rule;
  /** The log position and stored time of each change of the group, in order: created, +80, +443, -80 (by mistake), description. */
  let changes: Array<{ seq: string; storedAt: string; type: string }>;

  const cli = (token: string, argv: string[]) => cp.cli.cli(token, argv);
  const json = <T>(token: string, argv: string[]) => cp.cli.json<T>(token, argv);
  const seq = (i: number): string => changes[i]!.seq;

  beforeAll(async () => {
    cp = await startHostileControlPlane(['tenant-a', 'tenant-b']);
    a = cp.tokens['tenant-a']!;
    b = cp.tokens['tenant-b']!;
    // tenant-b's own group first: the log has an event before tenant-a's group existed.
    await json(b, ['secgroup', 'create', '--name', 'theirs']);
    group = (await json<{ id: string }>(a, ['--reason', 'CHG-1: web tier', 'secgroup', 'create', '--name', 'web'])).id;
    const rule = (port: string, reason: string) =>
      json<Rule>(a, ['--reason', reason, 'secgroup', 'rule', 'create', group, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', port]);
    http = await rule('80', 'CHG-2: http');
    https = await rule('443', 'CHG-3: https');
    await json(a, ['--reason', 'oops: meant to drop 8080', 'secgroup', 'rule', 'delete', group, http.id]);
    await json(a, ['--reason', 'CHG-4: describe it', 'secgroup', 'update', group, '--description', 'front end']);
    const events = await json<{ events: Array<{ seq: string; storedAt: string; type: string }> }>(a, ['events', 'list', '--aggregate', group]);
    changes = events.events;
  }, 180_000);

  afterAll(async () => {
    await cp?.destroy();
  });

  it('has the five changes of the group in the log', () => {
    expect(changes.map((e) => e.type)).toEqual([
      'secgroup.GroupCreated',
      'secgroup.RuleAdded',
      'secgroup.RuleAdded',
      'secgroup.RuleRemoved',
      'secgroup.GroupUpdated',
    ]);
  });

  it('show: the group as it was at a position, with the event (actor, reason) that made it so', async () => {
    const r = await json<Show>(a, ['audit', 'show', 'security-group', group, '--at', seq(1)]);
    expect(r.at).toEqual({ seq: seq(1), storedAt: changes[1]!.storedAt, requested: `position ${seq(1)}` });
    const view = JSON.parse(r.viewJson) as { name: string; rules: Rule[] };
    expect(view.name).toBe('web');
    expect(view.rules.map((x) => x.id)).toContain(http.id);
    expect(view.rules.map((x) => x.id)).not.toContain(https.id);
    expect(r.lastChange).toMatchObject({ seq: seq(1), actor: 'tenant-a-user', reason: 'CHG-2: http' });

    const text = await cli(a, ['audit', 'show', 'security-group', group, '--at', seq(3)]);
    expect(text.code).toBe(0);
    expect(text.out).toContain(`security-group ${group} at position ${seq(3)} (stored ${changes[3]!.storedAt}; asked: position ${seq(3)})`);
    expect(text.out).toContain('reason "oops: meant to drop 8080"');
    expect(text.out).toMatch(/^ {2}name: web$/m);
    expect(text.out).not.toContain(http.id);
  });

  it('show at a time: resolved once, to the last event stored at or before it, and the answer says so', async () => {
    const time = changes[2]!.storedAt;
    const r = await json<Show>(a, ['audit', 'show', 'security-group', group, '--at', time]);
    expect(r.at).toEqual({ seq: seq(2), storedAt: time, requested: `time ${time}` });
    expect((JSON.parse(r.viewJson) as { rules: Rule[] }).rules.map((x) => x.id)).toEqual(expect.arrayContaining([http.id, https.id]));
    // A moment before the group existed (but after the log began): it did not exist then.
    const before = await json<Show>(a, ['audit', 'show', 'security-group', group, '--at', String(Number(seq(0)) - 1)]);
    expect(before).toMatchObject({ viewJson: 'null', lastChange: null });
    const text = await cli(a, ['audit', 'show', 'security-group', group, '--at', String(Number(seq(0)) - 1)]);
    expect(text.out).toContain('(did not exist at this point: not yet created, or deleted)');
    // From before it existed: its creation is the first change.
    const diff = await json<Diff>(a, ['audit', 'diff', 'security-group', group, '--from', String(Number(seq(0)) - 1), '--to', seq(0)]);
    expect(diff.changes.find((c) => c.path === 'name')).toMatchObject({ afterJson: '"web"', event: { seq: seq(0), reason: 'CHG-1: web tier' } });
    expect(diff.changes.every((c) => c.beforeJson === undefined)).toBe(true);
  });

  it('diff: each field change with the event that made it (position, time, actor, reason, correlation)', async () => {
    const r = await json<Diff>(a, ['audit', 'diff', 'security-group', group, '--from', seq(0), '--to', seq(3)]);
    expect(r.from.seq).toBe(seq(0));
    expect(r.to.seq).toBe(seq(3));
    const by = (ruleId: string, field: string) => r.changes.filter((c) => c.path === `rules[${ruleId}].${field}`).map((c) => [c.beforeJson, c.afterJson, c.event.seq, c.event.reason]);
    expect(by(http.id, 'portMin')).toEqual([
      [undefined, '80', seq(1), 'CHG-2: http'],
      ['80', undefined, seq(3), 'oops: meant to drop 8080'],
    ]);
    expect(by(https.id, 'portMin')).toEqual([[undefined, '443', seq(2), 'CHG-3: https']]);
    expect(r.changes.every((c) => c.event.actor === 'tenant-a-user' && c.event.correlationId !== '')).toBe(true);
    expect(r.changes.some((c) => c.path === 'description')).toBe(false);

    // No --to: up to now, which has the description.
    const now = await cli(a, ['audit', 'diff', 'security-group', group, '--from', seq(3)]);
    expect(now.code).toBe(0);
    expect(now.out).toMatch(new RegExp(`^~ description: "" -> "front end" +position ${seq(4)}, \\S+, secgroup.GroupUpdated, actor tenant-a-user, reason "CHG-4: describe it", correlation \\S+$`, 'm'));
    expect(now.out).toContain('asked: now)');
  });

  it('blame: each current field with the event that last set it', async () => {
    const r = await json<Blame>(a, ['audit', 'blame', 'security-group', group]);
    const setBy = Object.fromEntries(r.fields.map((f) => [f.path, [f.event.seq, f.event.reason]]));
    expect(setBy['name']).toEqual([seq(0), 'CHG-1: web tier']);
    expect(setBy['description']).toEqual([seq(4), 'CHG-4: describe it']);
    expect(setBy[`rules[${https.id}].portMin`]).toEqual([seq(2), 'CHG-3: https']);
    expect(Object.keys(setBy).some((p) => p.includes(http.id))).toBe(false);
    // At a point: the deleted rule is still there, set by its own event.
    const then = await json<Blame>(a, ['audit', 'blame', 'security-group', group, '--at', seq(2)]);
    expect(then.fields.find((f) => f.path === `rules[${http.id}].portMin`)?.event.reason).toBe('CHG-2: http');
  });

  it("every owner answers through the same path: a port inside its network's events and a floating IP inside the cloud's (ipam), a service function (chaining), a floating IP's association (nat)", async () => {
    const net = await json<{ id: string }>(a, ['--reason', 'CHG-5: app network', 'network', 'create', '--name', 'app']);
    await json(a, ['subnet', 'create', '--network', net.id, '--cidr', '10.1.0.0/24']);
    const port = await json<{ id: string }>(a, ['--reason', 'CHG-6: app vm', 'port', 'create', '--network', net.id, '--name', 'app-1']);
    const created = await cp.lastSeq();
    await json(a, ['--reason', 'CHG-7: rename', 'port', 'update', port.id, '--name', 'app-one']);
    const then = await json<Show>(a, ['audit', 'show', 'port', port.id, '--at', String(created)]);
    expect(JSON.parse(then.viewJson)).toMatchObject({ id: port.id, name: 'app-1' });
    expect(then.lastChange).toMatchObject({ reason: 'CHG-6: app vm', type: 'ipam.PortCreated' });
    const blame = await json<Blame>(a, ['audit', 'blame', 'port', port.id]);
    expect(blame.fields.find((f) => f.path === 'name')).toMatchObject({ valueJson: '"app-one"', event: { reason: 'CHG-7: rename' } });
    const network = await json<Blame>(a, ['audit', 'blame', 'network', net.id]);
    expect(network.fields.find((f) => f.path === 'name')).toMatchObject({ valueJson: '"app"', event: { reason: 'CHG-5: app network' } });

    const fw = await json<{ id: string }>(a, ['--reason', 'CHG-8: firewall', 'sfc', 'function', 'create', '--name', 'fw1', '--ingress-port', port.id]);
    await json(a, ['--reason', 'CHG-9: rename fw', 'sfc', 'function', 'update', fw.id, '--name', 'fw-1']);
    const diff = await json<Diff>(a, ['audit', 'diff', 'sfc-function', fw.id, '--from', String(created)]);
    expect(diff.changes.filter((c) => c.path === 'name').map((c) => [c.beforeJson, c.afterJson, c.event.reason])).toEqual([
      [undefined, '"fw1"', 'CHG-8: firewall'],
      ['"fw1"', '"fw-1"', 'CHG-9: rename fw'],
    ]);

    // nat: a floating IP's association (its own aggregate), and the floating IP itself (inside IPAM's cloud aggregate).
    const pool = await json<{ id: string }>(cp.tokens['admin']!, ['pool', 'create', '--cidr', '203.0.113.0/24', '--purpose', 'floating-ip']);
    const fip = await json<{ id: string; address: string }>(a, ['--reason', 'CHG-10: public web', 'floatingip', 'create', '--pool', pool.id]);
    const unassociated = await cp.lastSeq();
    await json(a, ['--reason', 'CHG-11: publish app-1', 'floatingip', 'associate', fip.id, port.id]);
    await json(a, ['--reason', 'CHG-12: unpublish', 'floatingip', 'disassociate', fip.id]);
    const assoc = await json<Diff>(a, ['audit', 'diff', 'floating-ip-association', fip.id, '--from', String(unassociated)]);
    // The view keeps the field, null when unassociated: JSON null stays the text "null".
    expect(assoc.changes.filter((c) => c.path === 'portId').map((c) => [c.afterJson, c.event.reason])).toEqual([
      [`"${port.id}"`, 'CHG-11: publish app-1'],
      ['null', 'CHG-12: unpublish'],
    ]);
    const address = await json<Blame>(a, ['audit', 'blame', 'floating-ip', fip.id]);
    expect(address.fields.find((f) => f.path === 'address')).toMatchObject({ valueJson: `"${fip.address}"`, event: { reason: 'CHG-10: public web' } });
  });

  it("another tenant's group is NOT_FOUND, exactly like a missing one", async () => {
    const theirs = await cli(b, ['audit', 'show', 'security-group', group, '--at', seq(1)]);
    const missing = '4b3c2d1e-0f9a-4b8c-9d7e-6f5a4b3c2d1e';
    const none = await cli(a, ['audit', 'show', 'security-group', missing, '--at', seq(1)]);
    expect(theirs.code).toBe(1);
    expect(theirs.err.trim()).toBe(none.err.trim().replace(missing, group));
    expect(theirs.err).toMatch(/^error: NOT_FOUND: /);
    for (const argv of [['diff', '--from', seq(0)], ['blame']]) {
      const r = await cli(b, ['audit', argv[0]!, 'security-group', group, ...argv.slice(1)]);
      expect(r).toMatchObject({ code: 1, err: theirs.err });
    }
  });

  it('bad points and kinds are INVALID_ARGUMENT (exit 2) naming what is wrong', async () => {
    const show = (at: string) => cli(a, ['audit', 'show', 'security-group', group, '--at', at]);
    const early = await show('2001-01-01T00:00:00Z');
    expect(early).toMatchObject({ code: 2, err: expect.stringMatching(/^error: INVALID_ARGUMENT: at: time 2001-01-01T00:00:00Z is before the log began \(it began at \S+ \(position 1\)\)/) });
    const late = await show('99999999');
    expect(late).toMatchObject({ code: 2, err: expect.stringMatching(/^error: INVALID_ARGUMENT: at: position 99999999 is past the end of the log \(its last position is \d+\)/) });
    const noOffset = await show('2026-12-06T14:03:00');
    expect(noOffset).toMatchObject({ code: 2, err: expect.stringMatching(/^error: INVALID_ARGUMENT: .*at\.time: must be an ISO-8601 time like 2026-12-06T14:03:00Z/) });
    const backwards = await cli(a, ['audit', 'diff', 'security-group', group, '--from', seq(3), '--to', seq(1)]);
    expect(backwards).toMatchObject({ code: 2, err: `error: INVALID_ARGUMENT: from (position ${seq(3)}, position ${seq(3)}) is after to (position ${seq(1)}, position ${seq(1)})\n` });
    const lateTo = await cli(a, ['audit', 'diff', 'security-group', group, '--from', seq(1), '--to', '99999999']);
    expect(lateTo.err).toMatch(/^error: INVALID_ARGUMENT: to: position 99999999 is past the end of the log/);
    const kind = await cli(a, ['audit', 'show', 'widget', group, '--at', seq(1)]);
    expect(kind).toMatchObject({ code: 2, err: expect.stringMatching(/^error: INVALID_ARGUMENT: .*kind: must be one of network, subnet, port/) });
  });

  it('hosts are for admins: a tenant gets PERMISSION_DENIED, an admin NOT_FOUND for a host that never was', async () => {
    const tenant = await cli(a, ['audit', 'host', 'hv1', '--at', seq(1)]);
    expect(tenant).toMatchObject({ code: 1, err: expect.stringMatching(/^error: PERMISSION_DENIED: /) });
    const diff = await cli(a, ['audit', 'host', 'hv1', '--from', seq(0), '--to', seq(1)]);
    expect(diff).toMatchObject({ code: 1, err: expect.stringMatching(/^error: PERMISSION_DENIED: /) });
    const admin = await cli(cp.tokens['admin']!, ['audit', 'host', 'hv-never', '--at', seq(1)]);
    expect(admin).toMatchObject({ code: 1, err: expect.stringMatching(/^error: NOT_FOUND: .*hv-never/) });
  });

  it('a point with both a position and a time is refused at the boundary, naming the field', async () => {
    // An encoder following the proto sets one member of the oneof; raw bytes can carry both, and protobufjs keeps both.
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).string('security-group');
    w.uint32((2 << 3) | 2).string(group);
    w.uint32((3 << 3) | 2).fork().uint32((1 << 3) | 0).uint64(Number(seq(1))).uint32((2 << 3) | 2).string(changes[2]!.storedAt).ldelim();
    const client = new Client(cp.apiAddr, credentials.createInsecure());
    try {
      const md = new Metadata();
      md.set('authorization', `Bearer ${a}`);
      const err = await new Promise<ServiceError | null>((resolve) => {
        client.makeUnaryRequest('/strata.v1.AuditService/Show', (x: Buffer) => x, (x: Buffer) => x, Buffer.from(w.finish()), md, (e) => resolve(e));
      });
      expect(err?.code).toBe(status.INVALID_ARGUMENT);
      expect(err?.details).toMatch(/at: give exactly one of a position or a time/);
      expect(err?.metadata.get('strata-field')).toEqual(['at']);
    } finally {
      client.close();
    }
  });

  it('no audit question wrote anything', async () => {
    const before = await cp.lastSeq();
    await json(a, ['audit', 'show', 'security-group', group, '--at', seq(2)]);
    await json(a, ['audit', 'diff', 'security-group', group, '--from', seq(0)]);
    await json(a, ['audit', 'blame', 'security-group', group]);
    await cli(a, ['audit', 'host', 'hv1', '--at', seq(1)]);
    expect(await cp.lastSeq()).toBe(before);
  });
});
