/**
 * chaining's commands over NATS against real IPAM and secgroup processes,
 * with the production users: every invalid input is refused with its code
 * and message and writes no event; health reports from the wrong host change
 * nothing, from the right host fail the active member over; the state
 * survives a restart (state = full replay).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSONCodec, type NatsConnection } from 'nats';
import { healthObservationSubject, type ChainingCommandInput, type ChainingCommandName } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { ADMIN, ChainingClient, eventsOf, IpamClient, replayDigest, SecgroupClient, startChaining, startIpam, startSecgroup, type Principal } from './test/support.js';
import { expectRefusedWithoutEvents } from '@strata/testing/refusals';

const tenantA: Principal = { tenant: 'tenant-a', admin: false };
const tenantB: Principal = { tenant: 'tenant-b', admin: false };
const MISSING = '00000000-0000-4000-8000-00000000dead';
const json = JSONCodec();

describe('chaining commands', () => {
  let nats: StrataNats;
  let ipam: ManagedProcess;
  let secgroup: ManagedProcess;
  let chaining: ManagedProcess;
  let ipamClient: IpamClient;
  let sg: SecgroupClient;
  let client: ChainingClient;
  let operator: NatsConnection;
  let store: JetStreamEventStore;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    nats = await startProvisionedNats({ agents: ['hv1', 'hv2'] });
    ipam = startIpam(nats.url, nats.env('ipam'));
    secgroup = startSecgroup(nats.url, nats.env('secgroup'));
    chaining = startChaining(nats.url, nats.env('chaining'));
    await Promise.all([ipam.ready, secgroup.ready, chaining.ready]);
    ipamClient = new IpamClient(await nats.connect('api'));
    // One read-your-writes position for all clients, as in the api.
    sg = new SecgroupClient(ipamClient.nc, 15_000, ipamClient.seq);
    client = new ChainingClient(ipamClient.nc, 15_000, ipamClient.seq);
    operator = await nats.connect('admin');
    store = await JetStreamEventStore.open(await nats.connect('api'));

    const pool = await ipamClient.command('pool.create', { name: 'h', cidr: '198.51.100.0/24', purpose: 'host-ip' }, ADMIN);
    for (const [id, vtepIp] of [['hv1', '198.18.0.11'], ['hv2', '198.18.0.12']]) await ipamClient.command('hypervisor.register', { id: id!, vtepIp: vtepIp!, hostPoolId: pool.id }, ADMIN);
    const net = await ipamClient.command('network.create', { name: 'n' }, tenantA);
    const subnet = await ipamClient.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/24' }, tenantA);
    const router = await ipamClient.command('router.create', { name: 'r' }, tenantA);
    await ipamClient.command('router.addInterface', { id: router.id, subnetId: subnet.id }, tenantA);
    ids['router'] = router.id;
    ids['fw1'] = (await ipamClient.command('port.create', { networkId: net.id, hostId: 'hv1' }, tenantA)).id;
    ids['fw2'] = (await ipamClient.command('port.create', { networkId: net.id, hostId: 'hv2' }, tenantA)).id;
    // An appliance whose only address is on a subnet the router does not have.
    const lone = await ipamClient.command('network.create', { name: 'lone' }, tenantA);
    await ipamClient.command('subnet.create', { networkId: lone.id, cidr: '10.9.0.0/24' }, tenantA);
    ids['off'] = (await ipamClient.command('port.create', { networkId: lone.id, hostId: 'hv1' }, tenantA)).id;
    ids['sg'] = (await sg.command('group.create', { name: 'web' }, tenantA)).id;
    const netB = await ipamClient.command('network.create', { name: 'b' }, tenantB);
    await ipamClient.command('subnet.create', { networkId: netB.id, cidr: '10.0.0.0/24' }, tenantB);
    ids['theirPort'] = (await ipamClient.command('port.create', { networkId: netB.id, hostId: 'hv2' }, tenantB)).id;
    ids['theirRouter'] = (await ipamClient.command('router.create', { name: 'rb' }, tenantB)).id;
    ids['theirSg'] = (await sg.command('group.create', { name: 'b' }, tenantB)).id;
  }, 60_000);

  afterAll(async () => {
    await ipamClient?.close();
    await chaining?.stop();
    await secgroup?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('creates a function pair, an active-standby group, a classifier and a chain, and lists them per tenant', async () => {
    const f1 = await client.command('function.create', { name: 'fw1', ingressPortId: ids['fw1']!, healthCheck: { protocol: 'tcp', port: 22 } }, tenantA);
    expect(f1).toEqual({
      id: f1.id,
      tenant: 'tenant-a',
      name: 'fw1',
      ingressPortId: ids['fw1'],
      egressPortId: ids['fw1'],
      mode: 'l3',
      virtualIp: null,
      healthCheck: { protocol: 'tcp', port: 22, intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 3 },
      healthy: true,
      createdAt: expect.any(String),
      description: '',
      revision: 1,
    });
    const f2 = await client.command('function.create', { name: 'fw2', ingressPortId: ids['fw2']! }, tenantA);
    const group = await client.command('group.create', { name: 'fws', functionIds: [f1.id, f2.id] }, tenantA);
    expect(group).toMatchObject({ functionIds: [f1.id, f2.id], selection: 'active-standby', fallback: 'fail-closed', activeFunctionId: f1.id });
    const cls = await client.command('classifier.create', { name: 'app', protocol: 'tcp', source: { groupId: ids['sg']! }, destinationPorts: { min: 9000, max: 9000 } }, tenantA);
    expect(cls).toMatchObject({ ethertype: 'IPv4', protocol: 'tcp', source: { groupId: ids['sg'], cidr: null }, destination: { groupId: null, cidr: null }, destinationPorts: { min: 9000, max: 9000 } });
    const chain = await client.command('chain.create', { name: 'web-app', routerId: ids['router']!, groupIds: [group.id], classifierIds: [cls.id] }, tenantA);
    expect(chain).toMatchObject({ routerId: ids['router'], groupIds: [group.id], classifierIds: [cls.id], symmetric: true });
    Object.assign(ids, { f1: f1.id, f2: f2.id, group: group.id, cls: cls.id, chain: chain.id });

    expect(await client.query('chain.get', { id: chain.id }, tenantA)).toEqual(chain);
    expect((await client.query('function.list', {}, tenantA)).items.map((f) => f.id).sort()).toEqual([f1.id, f2.id].sort());
    expect((await client.query('function.list', {}, tenantB)).items).toEqual([]);
    expect((await client.query('chain.list', { limit: 1 }, tenantA)).items).toEqual([chain]);
    await expect(client.query('group.get', { id: group.id }, tenantB)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const created = await eventsOf(store, `strata.evt.chaining.group.${group.id}`);
    expect(created.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([
      ['chaining.FunctionGroupCreated', undefined],
      ['chaining.ActiveFunctionChanged', 'initial'],
    ]);
  });

  it('refuses every invalid input with its code and message, writing no event', async () => {
    const theirF = await client.command('function.create', { ingressPortId: ids['theirPort']! }, tenantB);
    const offF = await client.command('function.create', { ingressPortId: ids['off']! }, tenantA);
    const offGroup = await client.command('group.create', { functionIds: [offF.id] }, tenantA);
    const cases: Array<[string, ChainingCommandName, ChainingCommandInput<ChainingCommandName>, Principal, string, string | RegExp]> = [
      ["another tenant's port as appliance", 'function.create', { ingressPortId: ids['theirPort']! }, tenantA, 'NOT_FOUND', `port ${ids['theirPort']} not found`],
      ["another tenant's port (admin for tenant-a)", 'function.create', { tenant: 'tenant-a', ingressPortId: ids['theirPort']! }, ADMIN, 'NOT_FOUND', `port ${ids['theirPort']} not found`],
      ['unknown port', 'function.create', { ingressPortId: MISSING }, tenantA, 'NOT_FOUND', `port ${MISSING} not found`],
      ['VIP not a pair', 'function.create', { ingressPortId: ids['fw1']!, virtualIp: '10.0.0.200' }, tenantA, 'INVALID_ARGUMENT', /^virtualIp 10\.0\.0\.200 is not an allowed address pair of ingress port/],
      ['tcp check without port', 'function.create', { ingressPortId: ids['fw1']!, healthCheck: { protocol: 'tcp' } }, tenantA, 'INVALID_ARGUMENT', 'a tcp health check needs a port'],
      ["another tenant's function", 'group.create', { functionIds: [theirF.id] }, tenantA, 'NOT_FOUND', `service function ${theirF.id} not found`],
      ['repeated function', 'group.create', { functionIds: [ids['f1']!, ids['f1']!] }, tenantA, 'INVALID_ARGUMENT', `function ${ids['f1']} is named twice; a group's functions are distinct`],
      ['unknown group', 'classifier.create', { source: { groupId: MISSING } }, tenantA, 'NOT_FOUND', `security group ${MISSING} not found`],
      ["another tenant's group", 'classifier.create', { destination: { groupId: ids['theirSg']! } }, tenantA, 'NOT_FOUND', `security group ${ids['theirSg']} not found`],
      ['group and CIDR', 'classifier.create', { source: { groupId: ids['sg']!, cidr: '10.0.0.0/24' } }, tenantA, 'INVALID_ARGUMENT', /^source names a security group and a CIDR/],
      ['CIDR family', 'classifier.create', { destination: { cidr: '2001:db8::/64' } }, tenantA, 'INVALID_ARGUMENT', 'destination.cidr 2001:db8::/64 is not an IPv4 prefix (the classifier\'s ethertype)'],
      ['ports with icmp', 'classifier.create', { protocol: 'icmp', destinationPorts: { min: 1, max: 2 } }, tenantA, 'INVALID_ARGUMENT', 'destinationPorts apply to tcp and udp only; the classifier\'s protocol is icmp'],
      ['reversed range', 'classifier.create', { protocol: 'tcp', destinationPorts: { min: 9000, max: 80 } }, tenantA, 'INVALID_ARGUMENT', 'destinationPorts 9000-80 is reversed: min must not exceed max'],
      ['port out of range', 'classifier.create', { protocol: 'tcp', sourcePorts: { min: 0, max: 80 } }, tenantA, 'INVALID_ARGUMENT', /^invalid request: sourcePorts\.min: must be from 1 to 65535/],
      ['no hops', 'chain.create', { routerId: ids['router']!, groupIds: [], classifierIds: [ids['cls']!] }, tenantA, 'INVALID_ARGUMENT', /a chain needs at least one hop/],
      ['no classifiers', 'chain.create', { routerId: ids['router']!, groupIds: [ids['group']!], classifierIds: [] }, tenantA, 'INVALID_ARGUMENT', /a chain needs at least one classifier/],
      ["another tenant's router", 'chain.create', { routerId: ids['theirRouter']!, groupIds: [ids['group']!], classifierIds: [ids['cls']!] }, tenantA, 'NOT_FOUND', `router ${ids['theirRouter']} not found`],
      ['unknown router', 'chain.create', { routerId: MISSING, groupIds: [ids['group']!], classifierIds: [ids['cls']!] }, tenantA, 'NOT_FOUND', `router ${MISSING} not found`],
      ['hop without legs', 'chain.create', { routerId: ids['router']!, groupIds: [offGroup.id], classifierIds: [ids['cls']!] }, tenantA, 'FAILED_PRECONDITION', new RegExp(`^function ${offF.id} \\(group ${offGroup.id}\\) has no IPv4 leg on router`)],
      ['same classifier on the router', 'chain.create', { routerId: ids['router']!, groupIds: [ids['group']!], classifierIds: [ids['cls']!] }, tenantA, 'ALREADY_EXISTS', new RegExp(`^chain ${ids['chain']} on router`)],
      ['function in a group', 'function.delete', { id: ids['f1']! }, tenantA, 'FAILED_PRECONDITION', `service function ${ids['f1']} is a member of function group ${ids['group']}; delete the group first`],
      ['group in a chain', 'group.delete', { id: ids['group']! }, tenantA, 'FAILED_PRECONDITION', `function group ${ids['group']} is a hop of chain ${ids['chain']}; delete the chain first`],
      ['classifier in a chain', 'classifier.delete', { id: ids['cls']! }, tenantA, 'FAILED_PRECONDITION', `flow classifier ${ids['cls']} is used by chain ${ids['chain']}; delete the chain first`],
      ["another tenant's chain", 'chain.delete', { id: ids['chain']! }, tenantB, 'NOT_FOUND', `chain ${ids['chain']} not found`],
      // Updates: the creation's checks hold, fixed fields are refused by name, a stale revision conflicts.
      ['stale chain revision', 'chain.update', { id: ids['chain']!, name: 'x', expectedRevision: 9 }, tenantA, 'FAILED_PRECONDITION', `chain ${ids['chain']} is at revision 1, not the expected 9: read it again and retry`],
      ["another tenant's chain update", 'chain.update', { id: ids['chain']!, name: 'mine' }, tenantB, 'NOT_FOUND', `chain ${ids['chain']} not found`],
      ['chain router', 'chain.update', { id: ids['chain']!, routerId: ids['theirRouter']! } as never, tenantA, 'INVALID_ARGUMENT', /^invalid request: routerId: cannot be changed: a chain's router is fixed at creation/],
      ['hop without legs by update', 'chain.update', { id: ids['chain']!, groupIds: [offGroup.id] }, tenantA, 'FAILED_PRECONDITION', new RegExp(`^function ${offF.id} \\(group ${offGroup.id}\\) has no IPv4 leg on router`)],
      ['member without legs for a hop', 'group.update', { id: ids['group']!, functionIds: [offF.id] }, tenantA, 'FAILED_PRECONDITION', new RegExp(`^function ${offF.id} \\(group ${ids['group']}\\) has no IPv4 leg on router`)],
      ["another tenant's function by update", 'group.update', { id: ids['group']!, functionIds: [theirF.id] }, tenantA, 'NOT_FOUND', `service function ${theirF.id} not found`],
      ['classifier match', 'classifier.update', { id: ids['cls']!, protocol: 'udp' } as never, tenantA, 'INVALID_ARGUMENT', /^invalid request: protocol: cannot be changed: a flow classifier's match is fixed/],
      ['function legs', 'function.update', { id: ids['f1']!, ingressPortId: ids['fw2']! } as never, tenantA, 'INVALID_ARGUMENT', /^invalid request: ingressPortId: cannot be changed/],
      ['stale function revision', 'function.update', { id: ids['f1']!, name: 'x', expectedRevision: 7 }, tenantA, 'FAILED_PRECONDITION', /is at revision 1, not the expected 7/],
    ];
    // A classifier with the same match as the chain's: also refused on the router.
    const twin = await client.command('classifier.create', { protocol: 'tcp', source: { groupId: ids['sg']! }, destinationPorts: { min: 9000, max: 9000 } }, tenantA);
    cases.push(['identical classifier on the router', 'chain.create', { routerId: ids['router']!, groupIds: [ids['group']!], classifierIds: [twin.id] }, tenantA, 'ALREADY_EXISTS', new RegExp(`^chain ${ids['chain']} `)]);
    await expectRefusedWithoutEvents(
      store,
      cases.map(([what, op, body, who, code, message]) => ({ what, attempt: () => client.command(op, body as never, who), code, message })),
    );
  });

  /** Publish a health report as if from `host`'s agent (the operator may publish anywhere; the permission boundary is the hostile test's). */
  const report = (host: string, functionId: string, healthy: boolean, detail: string) =>
    operator.publish(healthObservationSubject(host), json.encode({ hostId: host, functionId, healthy, detail }));

  it('ignores a health report from a host the function is not on, and fails over on one from its host', async () => {
    const before = await store.lastSeq();
    report('hv2', ids['f1']!, false, 'spoofed by hv2');
    await waitFor(() => chaining.output().includes(`"functionId":"${ids['f1']}","standing":"wrong-host"`), { message: 'the wrong-host report to be ignored' });
    expect(await store.lastSeq()).toBe(before);
    expect(await client.query('function.get', { id: ids['f1']! }, tenantA)).toMatchObject({ healthy: true });

    report('hv1', ids['f1']!, false, '3 of 3 TCP connects to port 22 failed');
    await waitFor(async () => (await client.query('group.get', { id: ids['group']! }, tenantA)).activeFunctionId === ids['f2'], { message: 'failover to fw2' });
    const health = (await eventsOf(store, `strata.evt.chaining.function.${ids['f1']}`)).at(-1)!;
    expect(health).toMatchObject({ type: 'chaining.FunctionHealthChanged', data: { healthy: false, reason: 'check-failed', observedBy: 'hv1', detail: '3 of 3 TCP connects to port 22 failed' } });
    const failover = (await eventsOf(store, `strata.evt.chaining.group.${ids['group']}`)).at(-1)!;
    expect(failover).toMatchObject({ type: 'chaining.ActiveFunctionChanged', data: { functionId: ids['f2'], previousFunctionId: ids['f1'], reason: 'health', observedBy: 'hv1' } });

    // Re-sent (agents repeat their reports): nothing more is written.
    const settled = await store.lastSeq();
    // One publisher, one subscriber: handled in order, so once 'recovered' is applied, 'again' was handled before it.
    report('hv1', ids['f1']!, false, 'again');
    report('hv1', ids['f1']!, true, 'recovered');
    await waitFor(async () => (await client.query('function.get', { id: ids['f1']! }, tenantA)).healthy, { message: 'f1 recovered' });
    const after = await eventsOf(store, `strata.evt.chaining.function.${ids['f1']}`);
    expect(after.filter((e) => e.seq > settled).map((e) => (e.data as { detail: string }).detail)).toEqual(['recovered']);
    // f2 is active and healthy: f1's recovery moves nothing.
    expect((await client.query('group.get', { id: ids['group']! }, tenantA)).activeFunctionId).toBe(ids['f2']);
  });

  it('updates a function, group, classifier and chain: revisions grow, the active member follows, nothing is written for no change', async () => {
    const spare = await client.command('group.create', { name: 'spare', functionIds: [ids['f2']!] }, tenantA);
    const chain = await client.command('chain.update', { id: ids['chain']!, description: 'web to app', groupIds: [ids['group']!, spare.id], expectedRevision: 1 }, tenantA);
    expect(chain).toMatchObject({ description: 'web to app', groupIds: [ids['group'], spare.id], revision: 2 });
    const fn = await client.query('function.get', { id: ids['f1']! }, tenantA);
    const updated = await client.command('function.update', { id: fn.id, healthCheck: null, expectedRevision: fn.revision }, tenantA);
    expect(updated).toMatchObject({ healthCheck: null, revision: fn.revision + 1 });
    const cls = await client.command('classifier.update', { id: ids['cls']!, name: 'web → app' }, tenantA);
    expect(cls).toMatchObject({ name: 'web → app', protocol: 'tcp', revision: 2 });

    // The group's active member (f2 since the failover) leaves it: f1 takes over in the same request.
    const group = await client.query('group.get', { id: ids['group']! }, tenantA);
    expect(group.activeFunctionId).toBe(ids['f2']);
    const shrunk = await client.command('group.update', { id: group.id, functionIds: [ids['f1']!], expectedRevision: group.revision }, tenantA);
    expect(shrunk).toMatchObject({ functionIds: [ids['f1']], activeFunctionId: ids['f1'], revision: group.revision + 2 });
    const last = (await eventsOf(store, `strata.evt.chaining.group.${group.id}`)).slice(-2);
    expect(last.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([
      ['chaining.FunctionGroupUpdated', undefined],
      ['chaining.ActiveFunctionChanged', 'member-removed'],
    ]);

    // The same values again: answered as they are, no event.
    const before = await store.lastSeq();
    expect(await client.command('chain.update', { id: chain.id, name: chain.name, groupIds: chain.groupIds, expectedRevision: 2 }, tenantA)).toEqual(chain);
    expect(await client.command('group.update', { id: group.id, functionIds: [ids['f1']!] }, tenantA)).toEqual(shrunk);
    expect(await store.lastSeq()).toBe(before);
    await client.command('chain.update', { id: chain.id, groupIds: [ids['group']!] }, tenantA);
    await client.command('group.delete', { id: spare.id }, tenantA);
  });

  it('keeps its state across a restart; the state equals a full replay', async () => {
    const seq = await store.lastSeq();
    const before = await client.query('state.digest', {}, ADMIN);
    expect(before).toEqual(await replayDigest(store, seq));
    for (const extra of [{}, { CHAINING_USE_SNAPSHOT: 'false' }] as Record<string, string>[]) {
      await chaining.stop();
      chaining = startChaining(nats.url, { ...nats.env('chaining'), ...extra });
      await chaining.ready;
      expect(await client.query('state.digest', {}, ADMIN)).toEqual(before);
    }
    // Deleting in order works and frees what was in use.
    for (const [op, id] of [['chain.delete', ids['chain']], ['group.delete', ids['group']], ['classifier.delete', ids['cls']], ['function.delete', ids['f1']]] as const) {
      expect(await client.command(op, { id: id! }, tenantA)).toEqual({ id });
    }
    await expect(client.query('chain.get', { id: ids['chain']! }, tenantA)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
