/**
 * Service chaining against the control plane as production runs it (real
 * ipam, secgroup, chaining and api processes, nats-server with the users of
 * infra/nats/render-accounts.mjs), driven by the real `strata` CLI over the
 * real gRPC API:
 *
 * - every resource can be created, listed, shown and deleted;
 * - a tenant cannot make another tenant's port its appliance, nor classify
 *   on another tenant's security group, nor chain on another tenant's
 *   router: NOT_FOUND, exactly like a missing id, and nothing written;
 * - an agent cannot speak for a function on another host: publishing under
 *   another host's status subject is refused by NATS, and a report under
 *   its own subject about a function bound elsewhere is ignored; the same
 *   report from the function's own host is decided (the control).
 */
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthObservationSubject } from '@strata/contracts';
import { waitFor } from '@strata/testing';
import { startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

interface Resource {
  id: string;
  tenant: string;
}
interface Fn extends Resource {
  healthy: boolean;
  mode: string;
}
interface Group extends Resource {
  functionIds: string[];
  activeFunctionId?: string;
}

const json = JSONCodec();

describe('service chaining: tenants, hosts and the API', () => {
  let t: TenantPlane;
  const ids: Record<string, string> = {};
  const agents: NatsConnection[] = [];
  /** Connected as hypervisor `host`'s agent, with its production NATS user. */
  const agent = async (host: string): Promise<NatsConnection> => {
    const user = `agent-${host}`;
    const nc = await connect({ servers: t.cp.natsUrl, user, pass: t.cp.passwords[user]!, inboxPrefix: `_INBOX_${user}`, name: `hostile-${user}` });
    agents.push(nc);
    return nc;
  };

  beforeAll(async () => {
    t = await startTenantPlane(['tenant-a', 'tenant-b'], { agents: ['hv1', 'hv2'] });
    const pool = await t.json<Resource>('admin', ['pool', 'create', '--cidr', '198.51.100.0/24', '--purpose', 'host-ip']);
    for (const [host, vtep] of [['hv1', '198.18.0.11'], ['hv2', '198.18.0.12']] as const) {
      await t.json('admin', ['hypervisor', 'register', host, '--vtep-ip', vtep, '--host-pool', pool.id]);
    }
    for (const [who, cidr] of [['tenant-a', '10.0.0.0/24'], ['tenant-b', '10.0.0.0/24']] as const) {
      const net = await t.json<Resource>(who, ['network', 'create', '--name', 'n']);
      const subnet = await t.json<Resource>(who, ['subnet', 'create', '--network', net.id, '--cidr', cidr]);
      const router = await t.json<Resource>(who, ['router', 'create', '--name', 'r']);
      await t.json(who, ['router', 'add-interface', router.id, '--subnet', subnet.id]);
      ids[`${who}/router`] = router.id;
      ids[`${who}/fw1`] = (await t.json<Resource>(who, ['port', 'create', '--network', net.id, '--host', 'hv1'])).id;
      ids[`${who}/fw2`] = (await t.json<Resource>(who, ['port', 'create', '--network', net.id, '--host', 'hv2'])).id;
      ids[`${who}/sg`] = (await t.json<Resource>(who, ['secgroup', 'create', '--name', 'web'])).id;
    }
  });

  afterAll(async () => {
    for (const nc of agents) await nc.close().catch(() => undefined);
    await t?.stop();
  });

  it('creates, lists, shows and deletes every resource through the API', async () => {
    const a = (argv: string[]) => t.json<Resource & Record<string, unknown>>('tenant-a', ['sfc', ...argv]);
    const f1 = await a(['function', 'create', '--name', 'fw1', '--ingress-port', ids['tenant-a/fw1']!, '--health-check', 'tcp', '--health-port', '22']);
    expect(f1).toMatchObject({ tenant: 'tenant-a', name: 'fw1', mode: 'FUNCTION_MODE_L3', egressPortId: ids['tenant-a/fw1'], healthy: true });
    expect(f1['healthCheck']).toMatchObject({ protocol: 'HEALTH_CHECK_PROTOCOL_TCP', port: 22, intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 3 });
    const f2 = await a(['function', 'create', '--name', 'fw2', '--ingress-port', ids['tenant-a/fw2']!]);
    const group = (await a(['group', 'create', '--name', 'fws', '--function', f1.id, '--function', f2.id])) as unknown as Group;
    expect(group).toMatchObject({ functionIds: [f1.id, f2.id], activeFunctionId: f1.id, selection: 'GROUP_SELECTION_ACTIVE_STANDBY', fallback: 'GROUP_FALLBACK_FAIL_CLOSED' });
    const cls = await a(['classifier', 'create', '--name', 'app', '--protocol', 'tcp', '--source-group', ids['tenant-a/sg']!, '--destination-ports', '9000']);
    expect(cls).toMatchObject({ ethertype: 'ETHER_TYPE_IPV4', protocol: 'RULE_PROTOCOL_TCP', source: { groupId: ids['tenant-a/sg'] }, destinationPorts: { min: 9000, max: 9000 } });
    const chain = await a(['chain', 'create', '--name', 'web-app', '--router', ids['tenant-a/router']!, '--group', group.id, '--classifier', cls.id]);
    expect(chain).toMatchObject({ routerId: ids['tenant-a/router'], groupIds: [group.id], classifierIds: [cls.id], symmetric: true });
    Object.assign(ids, { f1: f1.id, f2: f2.id, group: group.id, cls: cls.id, chain: chain.id });

    // Tables a person reads.
    const table = await t.cli('tenant-a', ['sfc', 'classifier', 'show', cls.id]);
    expect(table.out).toContain(`IPv4 tcp from group ${ids['tenant-a/sg']} to any port 9000`);
    expect((await t.cli('tenant-a', ['sfc', 'group', 'list'])).out).toContain(`${f1.id} (active)`);
    expect((await t.cli('tenant-a', ['sfc', 'function', 'list'])).out).toMatch(/tcp\/22 every 2000 ms, timeout 1000 ms, rise 2, fall 3/);
    expect((await t.cli('tenant-a', ['sfc', 'chain', 'show', chain.id])).out).toContain(`1. ${group.id}`);
    for (const kind of ['function', 'group', 'classifier', 'chain']) {
      const mine = await t.json<{ items: Resource[] }>('tenant-a', ['sfc', kind, 'list']);
      expect(mine.items.length, kind).toBeGreaterThan(0);
      expect((await t.json<{ items: Resource[] }>('tenant-b', ['sfc', kind, 'list'])).items, kind).toEqual([]);
    }
    expect((await t.cli('tenant-b', ['sfc', 'chain', 'show', chain.id])).err).toContain(`NOT_FOUND: chain ${chain.id} not found`);

    // A throwaway set, deleted in order (the pair above stays for the host test).
    const spare = await a(['function', 'create', '--ingress-port', ids['tenant-a/fw2']!]);
    const spareGroup = await a(['group', 'create', '--function', spare.id, '--selection', 'flow-hash', '--fallback', 'fail-open']);
    expect(spareGroup).toMatchObject({ selection: 'GROUP_SELECTION_FLOW_HASH', fallback: 'GROUP_FALLBACK_FAIL_OPEN' });
    expect(spareGroup['activeFunctionId']).toBeUndefined();
    const spareCls = await a(['classifier', 'create', '--protocol', 'udp', '--destination-cidr', '10.0.0.0/24', '--destination-ports', '53']);
    const spareChain = await a(['chain', 'create', '--router', ids['tenant-a/router']!, '--group', spareGroup.id, '--classifier', spareCls.id, '--no-symmetric']);
    expect(spareChain['symmetric']).toBe(false);
    expect((await t.cli('tenant-a', ['sfc', 'group', 'delete', spareGroup.id])).err).toContain(`FAILED_PRECONDITION: function group ${spareGroup.id} is a hop of chain ${spareChain.id}`);
    for (const [kind, id] of [['chain', spareChain.id], ['group', spareGroup.id], ['classifier', spareCls.id], ['function', spare.id]] as const) {
      expect(await t.json('tenant-a', ['sfc', kind, 'delete', id])).toEqual({ id });
      expect((await t.cli('tenant-a', ['sfc', kind, 'show', id])).err, kind).toContain('NOT_FOUND');
    }
  });

  it("refuses another tenant's port, security group and router, writing nothing", async () => {
    const attempts: Array<[string, string[], string]> = [
      ["tenant-b's port as appliance", ['function', 'create', '--ingress-port', ids['tenant-b/fw1']!], `NOT_FOUND: port ${ids['tenant-b/fw1']} not found`],
      ["tenant-b's port as egress leg", ['function', 'create', '--ingress-port', ids['tenant-a/fw1']!, '--egress-port', ids['tenant-b/fw2']!], `NOT_FOUND: port ${ids['tenant-b/fw2']} not found`],
      ["tenant-b's security group", ['classifier', 'create', '--destination-group', ids['tenant-b/sg']!], `NOT_FOUND: security group ${ids['tenant-b/sg']} not found`],
      ["tenant-b's router", ['chain', 'create', '--router', ids['tenant-b/router']!, '--group', ids['group']!, '--classifier', ids['cls']!], `NOT_FOUND: router ${ids['tenant-b/router']} not found`],
      ['a reversed port range', ['classifier', 'create', '--protocol', 'tcp', '--destination-ports', '9000-80'], 'INVALID_ARGUMENT: destinationPorts 9000-80 is reversed'],
      ['a second chain with the same classifier on the router', ['chain', 'create', '--router', ids['tenant-a/router']!, '--group', ids['group']!, '--classifier', ids['cls']!], `ALREADY_EXISTS: chain ${ids['chain']} on router`],
    ];
    for (const [what, argv, error] of attempts) {
      const before = await t.lastSeq();
      const r = await t.cli('tenant-a', ['sfc', ...argv]);
      expect(r.code, what).not.toBe(0);
      expect(r.err, what).toContain(error);
      expect(await t.lastSeq(), `${what} wrote an event`).toBe(before);
    }
    // The admin acting for tenant-a is held to tenant-a's ports too.
    const before = await t.lastSeq();
    const r = await t.cli('admin', ['sfc', 'function', 'create', '--tenant', 'tenant-a', '--ingress-port', ids['tenant-b/fw1']!]);
    expect(r.err).toContain(`NOT_FOUND: port ${ids['tenant-b/fw1']} not found`);
    expect(await t.lastSeq()).toBe(before);
  });

  it('lets no agent speak for a function on another host', async () => {
    const chaining = t.cp.processes.find((p) => p.name === 'chaining')!;
    const f1 = ids['f1']!; // its ingress port is on hv1
    const fn = () => t.json<Fn>('tenant-a', ['sfc', 'function', 'show', f1]);
    const hv2 = await agent('hv2');
    const denied: string[] = [];
    void (async () => {
      for await (const s of hv2.status()) if (s.type === 'error') denied.push(String(s.data));
    })();
    const before = await t.lastSeq();

    // Impersonating hv1: NATS refuses the subject.
    hv2.publish(healthObservationSubject('hv1'), json.encode({ hostId: 'hv1', functionId: f1, healthy: false, detail: 'hv2 posing as hv1' }));
    // Its own subject, about hv1's function: heard, and ignored.
    hv2.publish(healthObservationSubject('hv2'), json.encode({ hostId: 'hv2', functionId: f1, healthy: false, detail: 'hv2 about hv1' }));
    await waitFor(() => chaining.output().includes(`"reporter":"hv2","functionId":"${f1}","standing":"wrong-host"`), {
      timeoutMs: 20_000,
      message: "chaining to hear hv2's report and ignore it",
    });
    // nats.js reports a refused publish as a bare PERMISSIONS_VIOLATION status; the only refusable publish here is the impersonation.
    await waitFor(() => denied.includes('PERMISSIONS_VIOLATION'), { message: 'NATS to refuse the impersonation' });
    expect(await t.lastSeq()).toBe(before);
    expect(await fn()).toMatchObject({ healthy: true });
    expect(await t.json<Group>('tenant-a', ['sfc', 'group', 'show', ids['group']!])).toMatchObject({ activeFunctionId: f1 });

    // The control: the same report from hv1's own agent is decided, and fails the pair over.
    const hv1 = await agent('hv1');
    hv1.publish(healthObservationSubject('hv1'), json.encode({ hostId: 'hv1', functionId: f1, healthy: false, detail: '3 of 3 probes failed' }));
    await waitFor(async () => !(await fn()).healthy, { timeoutMs: 20_000, message: "hv1's report to be decided" });
    expect(await t.json<Group>('tenant-a', ['sfc', 'group', 'show', ids['group']!])).toMatchObject({ activeFunctionId: ids['f2'] });
  });
});
