/**
 * Issue 11, defect 3 (deleting another service's consumers). Only secgroup
 * may create, read, pull from, acknowledge or delete secgroup's reactor
 * consumer; and when it is gone anyway (an operator deleted it), the reactor
 * notices, creates it again and catches up, so new ports still get their
 * tenant's default group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@strata/testing';
import { attempt, EVENTS, startHostileControlPlane, type HostileControlPlane } from './support/control-plane.js';

const DURABLE = 'secgroup-port-reactor';

interface PortSecurity {
  groupIds: string[];
}

describe('hostile: other users and the reactor consumers', () => {
  let cp: HostileControlPlane;
  let token: string;
  let networkId: string;

  const newPort = async (name: string): Promise<string> =>
    (await cp.cli.json<{ id: string }>(token, ['port', 'create', '--network', networkId, '--name', name])).id;
  const groupsOf = async (portId: string): Promise<string[]> => (await cp.cli.json<PortSecurity>(token, ['port', 'security', portId])).groupIds;
  const secgroupLog = (): string => cp.processes.find((p) => p.name === 'secgroup')!.output();

  beforeAll(async () => {
    cp = await startHostileControlPlane(['gamma']);
    token = cp.tokens['gamma']!;
    networkId = (await cp.cli.json<{ id: string }>(token, ['network', 'create', '--name', 'n'])).id;
    await cp.cli.json(token, ['subnet', 'create', '--network', networkId, '--cidr', '10.9.0.0/24']);
    const first = await newPort('first');
    await waitFor(async () => (await groupsOf(first)).length > 0, { timeoutMs: 30_000, intervalMs: 100, message: 'first port in its default group' });
  });
  afterAll(async () => {
    await cp?.destroy();
  });

  it('the api user (any log reader) cannot delete, pull from, acknowledge, read or take over secgroup\'s reactor consumer', async () => {
    for (const user of ['api', 'nat', 'ipam']) {
      const nc = await cp.connectAs(user);
      const tries: [string, string][] = [
        [`$JS.API.CONSUMER.DELETE.${EVENTS}.${DURABLE}`, ''],
        [`$JS.API.CONSUMER.MSG.NEXT.${EVENTS}.${DURABLE}`, JSON.stringify({ batch: 10, expires: 1e9 })],
        [`$JS.API.CONSUMER.INFO.${EVENTS}.${DURABLE}`, ''],
        [`$JS.API.CONSUMER.CREATE.${EVENTS}.${DURABLE}`, JSON.stringify({ stream_name: EVENTS, config: { durable_name: DURABLE, ack_policy: 'explicit' } })],
        [`$JS.API.CONSUMER.DURABLE.CREATE.${EVENTS}.${DURABLE}`, JSON.stringify({ stream_name: EVENTS, config: { durable_name: DURABLE, ack_policy: 'explicit' } })],
        // The legacy unnamed create with the durable's name in the body.
        [`$JS.API.CONSUMER.CREATE.${EVENTS}`, JSON.stringify({ stream_name: EVENTS, config: { durable_name: DURABLE, ack_policy: 'explicit' } })],
        [`$JS.ACK.${EVENTS}.${DURABLE}.1.1.1.0.0`, ''],
      ];
      for (const [subject, body] of tries) expect(await attempt(nc, subject, body), `${user} ${subject}`).toMatch(/Permissions Violation/);
    }
    const admin = await cp.connectAs('admin');
    const info = await (await admin.jetstreamManager()).consumers.info(EVENTS, DURABLE);
    expect(info.config.ack_policy).toBe('explicit');
  });

  it('when an operator deletes the consumer, secgroup notices, creates it again, and a new port still gets its default group', async () => {
    const admin = await cp.connectAs('admin');
    const jsm = await admin.jetstreamManager();
    const created = (await jsm.consumers.info(EVENTS, DURABLE)).created;
    expect(await jsm.consumers.delete(EVENTS, DURABLE)).toBe(true);
    await waitFor(async () => (await jsm.consumers.info(EVENTS, DURABLE).catch(() => undefined))?.created !== undefined, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: 'the reactor consumer created again',
    });
    expect((await jsm.consumers.info(EVENTS, DURABLE)).created).not.toBe(created);
    expect(secgroupLog()).toMatch(/reactor: lost its consumer; creating it again/);
    const port = await newPort('after-delete');
    await waitFor(async () => (await groupsOf(port)).length > 0, { timeoutMs: 30_000, intervalMs: 100, message: 'new port in its default group' });
  });
});
