import { describe, expect, it } from 'vitest';
import { ipamContract, secgroupContract } from '@strata/contracts';
import { ContractClient, ReadYourWrites } from './contract-client.js';
import type { RequestMeta } from './messaging.js';
import type { NatsRequester } from './requester.js';

const now = new Date('2024-05-01T14:03:00.000Z');

describe('ReadYourWrites', () => {
  it('remembers the highest sequence a command reported', () => {
    const ryw = new ReadYourWrites();
    expect(ryw.minSeq()).toBeUndefined();
    ryw.observe(undefined);
    expect(ryw.minSeq()).toBeUndefined();
    ryw.observe(7);
    ryw.observe(5);
    expect(ryw.minSeq()).toBe(7);
  });
});

describe('one ReadYourWrites shared by the service clients', () => {
  /** A requester that answers every request with `seq` and remembers what it was sent. */
  function fakeRequester() {
    const sent: Array<{ subject: string; meta: RequestMeta }> = [];
    let seq: number | undefined;
    const requester = {
      request: (subject: string, _body: unknown, meta: RequestMeta) => {
        sent.push({ subject, meta });
        return Promise.resolve(seq === undefined ? { result: {} } : { result: {}, seq });
      },
    } as unknown as NatsRequester;
    return { requester, sent, answerWith: (s: number | undefined) => (seq = s) };
  }
  const meta: RequestMeta = { actor: 'alice', tenant: 't1', admin: false, requestId: 'r', correlationId: 'r', at: now.toISOString() };

  it('gives secgroup queries the sequence of an IPAM write, and IPAM queries that of a secgroup write', async () => {
    const fake = fakeRequester();
    const ryw = new ReadYourWrites();
    const ipam = new ContractClient(ipamContract, fake.requester, ryw);
    const secgroup = new ContractClient(secgroupContract, fake.requester, ryw);

    await secgroup.query('port.get', { portId: 'p' }, meta);
    expect(fake.sent.at(-1)).toEqual({ subject: 'strata.qry.secgroup.port.get', meta });

    fake.answerWith(12);
    await ipam.command('port.create', { networkId: 'n' }, meta);
    fake.answerWith(undefined);
    await secgroup.query('port.get', { portId: 'p' }, meta);
    expect(fake.sent.at(-1)!.meta.minSeq).toBe(12);

    fake.answerWith(20);
    await secgroup.command('port.setGroups', { portId: 'p', groupIds: [] }, meta);
    fake.answerWith(undefined);
    await ipam.query('port.get', { id: 'p' }, meta);
    expect(fake.sent.at(-1)).toMatchObject({ subject: 'strata.qry.ipam.port.get', meta: { minSeq: 20 } });
    // Commands carry it too (set-groups right after port create must see the port); the caller's meta is never changed.
    expect(fake.sent.find((r) => r.subject === 'strata.cmd.secgroup.port.setGroups')!.meta.minSeq).toBe(12);
    expect(meta).not.toHaveProperty('minSeq');
  });

  it("keeps a caller's own minSeq when it is higher than the tracker's", async () => {
    const fake = fakeRequester();
    const ipam = new ContractClient(ipamContract, fake.requester, new ReadYourWrites());
    fake.answerWith(12);
    await ipam.command('port.create', { networkId: 'n' }, meta);
    await ipam.query('port.get', { id: 'p' }, { ...meta, minSeq: 30 });
    expect(fake.sent.at(-1)!.meta.minSeq).toBe(30);
    await ipam.query('port.get', { id: 'p' }, { ...meta, minSeq: 4 });
    expect(fake.sent.at(-1)!.meta.minSeq).toBe(12);
  });
});

describe('ContractClient reply checks', () => {
  const answering = (result: unknown) => ({ request: () => Promise.resolve({ result }) }) as unknown as NatsRequester;
  const meta: RequestMeta = { actor: 'alice', tenant: 't1', admin: false, requestId: 'r', correlationId: 'r', at: now.toISOString() };
  const view = { portId: 'p', tenant: 't1', groupIds: [], portSecurity: true, revision: 1 };

  it('answers a reply that matches the contract as the service sent it', async () => {
    const sent = { ...view, extra: 1 };
    const client = new ContractClient(secgroupContract, answering(sent), undefined, { checkReplies: true });
    await expect(client.query('port.get', { portId: 'p' }, meta)).resolves.toBe(sent);
  });

  it('refuses a reply off the contract with INTERNAL naming the field', async () => {
    const client = new ContractClient(secgroupContract, answering({ ...view, groupIds: 'g' }), undefined, { checkReplies: true });
    await expect(client.query('port.get', { portId: 'p' }, meta)).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/^reply from strata\.qry\.secgroup\.port\.get does not match the secgroup contract: groupIds: /),
    });
  });

  it('does not check unless asked (the api trusts its services)', async () => {
    const off = { nonsense: true };
    await expect(new ContractClient(secgroupContract, answering(off)).query('port.get', { portId: 'p' }, meta)).resolves.toBe(off);
  });
});
