/**
 * Attacks on resource ids and on what errors reveal across tenants, against
 * the control plane as production runs it (see support/tenant-plane.ts).
 *
 * Guards issue 11:
 * - defect 7: a create used the client's x-request-id as the new resource's
 *   id, and a tenant's default group id is a hash of the tenant's name, so
 *   tenant A could create a group under tenant C's default-group id and C's
 *   ports landed in A's group (A's rules applied to them, A's remote-group
 *   rules learned C's addresses);
 * - defect 8: "<resource> <id> already exists" for another tenant's id while a
 *   get answered NOT_FOUND; allocating a floating IP at another tenant's
 *   address named that tenant's floating-IP id.
 */
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSecurityGroupId, secgroupEvents, securityGroupAggregate } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { waitFor } from '@strata/testing';
import { EVENT_STREAM, startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

interface Group {
  id: string;
  tenant: string;
  isDefault: boolean;
  rules: unknown[];
}

describe('tenant ids: no client-chosen id reaches another tenant', () => {
  let t: TenantPlane;
  let fipPool: string;
  let appPool: string;

  beforeAll(async () => {
    t = await startTenantPlane(['tenant-a', 'tenant-c', 'tenant-d']);
    fipPool = (await t.json<{ id: string }>('admin', ['pool', 'create', '--cidr', '203.0.113.0/24', '--purpose', 'floating-ip'])).id;
    appPool = (await t.json<{ id: string }>('admin', ['pool', 'create', '--cidr', '198.51.100.0/24', '--purpose', 'application-prefix'])).id;
  });

  afterAll(async () => {
    await t?.stop();
  });

  /** A new port's groups once secgroup's reactor has decided them (it joins its tenant's default group). */
  async function settledGroups(who: string, portId: string): Promise<string[]> {
    return waitFor(
      async () => {
        const { groupIds } = await t.json<{ groupIds: string[] }>(who, ['port', 'security', portId]);
        return groupIds.length > 0 && groupIds;
      },
      { timeoutMs: 30_000, message: `the reactor deciding port ${portId}'s groups` },
    ) as Promise<string[]>;
  }

  it("tenant A cannot squat tenant C's default security group: C's first port joins C's own default group", async () => {
    const squatId = defaultSecurityGroupId('tenant-c');
    const evil = await t.json<Group>('tenant-a', ['secgroup', 'create', '--name', 'evil'], squatId);
    expect(evil.id).not.toBe(squatId);
    await t.json('tenant-a', ['secgroup', 'rule', 'create', evil.id, '--direction', 'ingress', '--ethertype', 'IPv4']);

    const net = await t.json<{ id: string }>('tenant-c', ['network', 'create', '--name', 'c-net']);
    await t.json('tenant-c', ['subnet', 'create', '--network', net.id, '--cidr', '10.9.0.0/24']);
    const port = await t.json<{ id: string }>('tenant-c', ['port', 'create', '--network', net.id]);
    expect(await settledGroups('tenant-c', port.id)).toEqual([squatId]);
    // The group C's port is in is C's default group, visible to C (it was A's, invisible to C, before the fix).
    expect(await t.json<Group>('tenant-c', ['secgroup', 'show', squatId])).toMatchObject({ id: squatId, tenant: 'tenant-c', isDefault: true });
    expect((await t.cli('tenant-a', ['secgroup', 'show', squatId])).err).toContain(`NOT_FOUND: security group ${squatId} not found`);
  });

  it("the port reactor never puts a port into a foreign group found under its tenant's default-group id (a squat left in the log by older code)", async () => {
    // What code before the fix wrote for tenant A's squat, appended as the secgroup service (its production NATS user).
    const squatId = defaultSecurityGroupId('tenant-d');
    const nc = await connect({ servers: t.cp.natsUrl, user: 'secgroup', pass: t.cp.passwords['secgroup']!, inboxPrefix: '_INBOX_secgroup', name: 'hostile-old-log' });
    try {
      const store = await JetStreamEventStore.open(nc);
      const data = secgroupEvents.encode('secgroup.GroupCreated', { groupId: squatId, name: 'evil', description: '', isDefault: false, rules: [] });
      const aggregate = securityGroupAggregate(squatId);
      const envelope = { id: squatId, type: 'secgroup.GroupCreated', ...data, aggregate, tenant: 'tenant-a', actor: 'tenant-a-user' };
      const when = { occurredAt: new Date().toISOString(), correlationId: squatId, causationId: squatId };
      await store.append(aggregate, { ...envelope, ...when }, { expectedVersion: 'none' });

      const net = await t.json<{ id: string }>('tenant-d', ['network', 'create']);
      const port = await t.json<{ id: string }>('tenant-d', ['port', 'create', '--network', net.id, '--no-fixed-ips']);
      // Wait until the reactor has handled the port's creation (its consumer acknowledged it), then look.
      const portCreated = await store.lastSeq(`strata.evt.ipam.network.${net.id}`);
      const jsm = await t.admin.jetstreamManager();
      await waitFor(async () => (await jsm.consumers.info(EVENT_STREAM, 'secgroup-port-reactor')).ack_floor.stream_seq >= portCreated, {
        timeoutMs: 30_000,
        message: "the port reactor acknowledging D's port",
      });
      // Not in the squatted group: without groups (the host view says "not known", the agent keeps it unplugged).
      expect(await t.json<{ groupIds: string[] }>('tenant-d', ['port', 'security', port.id])).toMatchObject({ groupIds: [] });
      expect(await store.lastSeq(`strata.evt.secgroup.port.${port.id}`)).toBe(0);
    } finally {
      await nc.close();
    }
  });

  it("a port never joins another tenant's group, even when an admin asks", async () => {
    const groupA = await t.json<Group>('tenant-a', ['secgroup', 'create', '--name', 'a-web']);
    const net = await t.json<{ id: string }>('tenant-c', ['network', 'create']);
    const portC = await t.json<{ id: string }>('tenant-c', ['port', 'create', '--network', net.id, '--no-fixed-ips']);
    await settledGroups('tenant-c', portC.id);
    const before = await t.lastSeq();
    const r = await t.cli('admin', ['port', 'set-groups', portC.id, groupA.id]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`NOT_FOUND: security group ${groupA.id} not found`);
    expect(await t.lastSeq()).toBe(before);
  });

  it("a request id equal to another tenant's resource id creates the caller's own resource, and no error names the other's", async () => {
    const theirs = await t.json<{ id: string }>('tenant-c', ['network', 'create', '--name', 'secret']);
    const group = await t.json<Group>('tenant-c', ['secgroup', 'create', '--name', 'secret']);
    const before = await t.lastSeq();

    const mine = await t.json<{ id: string; tenant: string }>('tenant-a', ['network', 'create', '--name', 'mine'], theirs.id);
    expect(mine.id).not.toBe(theirs.id);
    expect(mine.tenant).toBe('tenant-a');
    const myGroup = await t.json<Group>('tenant-a', ['secgroup', 'create', '--name', 'mine'], group.id);
    expect(myGroup.id).not.toBe(group.id);
    expect(await t.lastSeq()).toBe(before + 2);

    // C's resources are untouched and still invisible to A.
    expect((await t.cli('tenant-a', ['network', 'show', theirs.id])).err).toContain(`NOT_FOUND: network ${theirs.id} not found`);
    expect(await t.json<{ name: string }>('tenant-c', ['network', 'show', theirs.id])).toMatchObject({ name: 'secret' });
  });

  it("allocating another tenant's floating-IP address answers 'not available' without its id, and writes nothing", async () => {
    const fipC = await t.json<{ id: string; address: string }>('tenant-c', ['floatingip', 'create', '--pool', fipPool]);
    const before = await t.lastSeq();
    const r = await t.cli('tenant-a', ['floatingip', 'create', '--pool', fipPool, '--address', fipC.address]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`ALREADY_EXISTS: ${fipC.address} is not available`);
    expect(r.err).not.toContain(fipC.id);
    expect(r.err).not.toContain('tenant-c');
    expect(await t.lastSeq()).toBe(before);
  });

  it("allocating a prefix overlapping another tenant's application prefix answers 'not available' without naming it", async () => {
    const prefixC = await t.json<{ id: string; prefix: string }>('tenant-c', ['appprefix', 'create', '--pool', appPool, '--length', '29']);
    const before = await t.lastSeq();
    const inside = prefixC.prefix.replace(/\.(\d+)\/29$/, (_m, last: string) => `.${Number(last) + 4}/30`);
    const r = await t.cli('tenant-a', ['appprefix', 'create', '--pool', appPool, '--prefix', inside]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`ALREADY_EXISTS: ${inside} is not available`);
    expect(r.err).not.toContain(prefixC.id);
    expect(r.err).not.toContain(prefixC.prefix);
    expect(await t.lastSeq()).toBe(before);
  });
});
