/**
 * The gateway's `history` query over NATS (issue 16, "state at any point"),
 * asked through the ContractClient as the api asks it, against the real
 * gateway process with its production NATS user: a peer's versions up to a
 * position, each with who, when and why; peers are the operator's, so a
 * tenant gets NOT_FOUND exactly as for a peer that never existed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BGP_CONFIG_AGGREGATE, bgpContract } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { ADMIN, BgpClient, startProvisionedNats, type ManagedProcess, type Principal } from '@strata/lab';
import { commandSignerFrom, ContractClient, NatsRequester } from '@strata/runtime';
import type { StrataNats } from '@strata/testing';
import { startGateway } from './test/support.js';

const tenant: Principal = { tenant: 'tenant-a', admin: false };
const MISSING = '00000000-0000-4000-8000-00000000dead';
const config = BGP_CONFIG_AGGREGATE.id;

describe('bgp history', () => {
  let nats: StrataNats;
  let gw: ManagedProcess;
  let store: JetStreamEventStore;
  let bgp: BgpClient;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    gw = startGateway(nats.url, 'bgp', { ...nats.env('bgp'), GOBGP_TARGET: 'unix:///nonexistent/gobgp.sock' });
    await gw.ready;
    store = await JetStreamEventStore.open(await nats.connect('api'));
    bgp = new BgpClient(await nats.connect('api'), 15_000);
  });

  afterAll(async () => {
    await bgp?.close();
    await gw?.stop();
    await nats?.stop();
  });

  it('answers a peer\'s versions up to a position to an admin, with who and why; NOT_FOUND to a tenant, as for a missing peer', async () => {
    await bgp.command('settings.set', { localAs: 65000, routerId: '198.18.0.2' });
    const beforePeer = bgp.lastSeq;
    const created = await bgp.command('peer.create', { name: 'tor', address: '198.18.0.1', remoteAs: 65001 });
    const group = await bgp.command('peergroup.create', { name: 'fw', listenRange: '198.19.0.0/16', remoteAs: 65100 });
    // An update with a reason, sent as the api sends it (x-reason in the request's metadata).
    const requestId = randomUUID();
    const client = new ContractClient(bgpContract, new NatsRequester(bgp.nc, { timeoutMs: 15_000, signer: commandSignerFrom() }), bgp.seq);
    const at = new Date().toISOString();
    const updated = await client.command('peer.update', { id: created.id, remoteAs: 65002 }, { actor: 'ops-alice', tenant: '_system', admin: true, requestId, correlationId: requestId, at, reason: 'ToR replaced' });
    const afterUpdate = bgp.lastSeq;
    await bgp.command('peer.delete', { id: created.id });
    const end = await store.lastSeq();

    const h = await bgp.query('history', { kind: 'bgp-peer', id: created.id, aggregateId: config, toSeq: end });
    expect(h).toMatchObject({ kind: 'bgp-peer', id: created.id, tenant: '_system', unreadable: [] });
    // Every event of the config aggregate was read (settings and the group's too), and nothing else: the log has only these.
    expect(h.eventsRead).toBe(5);
    expect(h.versions.map((v) => v.event.type)).toEqual(['bgp.PeerAdded', 'bgp.PeerUpdated', 'bgp.PeerRemoved']);
    expect(h.versions.map((v) => v.view)).toEqual([created, updated, null]);
    expect(h.versions[1]!.event).toMatchObject({ seq: afterUpdate, actor: 'ops-alice', reason: 'ToR replaced', correlationId: requestId, occurredAt: at });
    expect(h.versions[0]!.event.reason).toBeNull();

    // At a position: the peer as it was then.
    const then = await bgp.query('history', { kind: 'bgp-peer', id: created.id, aggregateId: config, toSeq: afterUpdate });
    expect(then.versions.at(-1)!.view).toEqual(updated);
    expect((await bgp.query('history', { kind: 'bgp-peer-group', id: group.id, aggregateId: config, toSeq: end })).versions.map((v) => v.view)).toEqual([group]);

    // A tenant: NOT_FOUND for the operator's peer, in the same words as for one that never existed.
    const refusal = (id: string, who: Principal) =>
      bgp.query('history', { kind: 'bgp-peer', id, aggregateId: config, toSeq: end }, who).then(
        () => undefined,
        (e: { code: string; message: string }) => ({ code: e.code, message: e.message.replace(id, '<id>') }),
      );
    const theirs = await refusal(created.id, tenant);
    expect(theirs).toEqual(await refusal(MISSING, tenant));
    expect(theirs).toEqual(await refusal(MISSING, ADMIN));
    expect(theirs).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining(`up to position ${end}`) });
    // Before the peer existed, it is missing to an admin too.
    await expect(bgp.query('history', { kind: 'bgp-peer', id: created.id, aggregateId: config, toSeq: beforePeer })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses another service\'s kind and a malformed request with INVALID_ARGUMENT', async () => {
    const end = await store.lastSeq();
    await expect(bgp.query('history', { kind: 'sfc-function', id: MISSING, aggregateId: MISSING, toSeq: end })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('belongs to chaining, not bgp'),
    });
    await expect(bgp.query('history', { kind: 'bgp-peer', id: 'a.b', aggregateId: config, toSeq: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
