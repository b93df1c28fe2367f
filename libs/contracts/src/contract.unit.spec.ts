import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineContract } from './contract.js';
import { ipamContract } from './ipam/contract.js';
import { CreateNetwork } from './ipam/commands.js';

describe('defineContract', () => {
  it('gives each command its strata.cmd subject and each query its strata.qry subject, keeping the schemas', () => {
    const request = z.object({ id: z.string() });
    const reply = z.object({ ok: z.boolean() });
    const c = defineContract('svc', { commands: { 'thing.create': { request, reply } }, queries: { 'thing.get': { request, reply } } });
    expect(c.name).toBe('svc');
    expect(c.commands['thing.create']).toEqual({ request, reply, subject: 'strata.cmd.svc.thing.create' });
    expect(c.queries['thing.get']).toEqual({ request, reply, subject: 'strata.qry.svc.thing.get' });
  });

  it('is what IPAM is defined with: the subjects the service has always served', () => {
    expect(ipamContract.commands['network.create'].subject).toBe('strata.cmd.ipam.network.create');
    expect(ipamContract.commands['network.create'].request).toBe(CreateNetwork);
    expect(ipamContract.queries['state.digest'].subject).toBe('strata.qry.ipam.state.digest');
  });
});
