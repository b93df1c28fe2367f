/**
 * Who, when and why (issue 16, part 1): `strata --reason …` (gRPC metadata
 * x-reason) is stored on every event the command causes, beside actor,
 * time, correlation and causation, and `strata events list` shows it. A
 * malformed reason is refused before anything is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { startApi, type ApiHarness } from '../support/api.js';
import { startIpam, type IpamProcess } from '../support/ipam.js';

interface Event {
  seq: string;
  dataJson: string;
  type: string;
  actor: string;
  reason: string;
  correlationId: string;
  aggregate: { id: string };
}

describe('strata --reason', () => {
  let nats: StrataNats;
  let ipam: IpamProcess;
  let api: ApiHarness;
  let token: string;

  const events = async (): Promise<Event[]> => (await api.json<{ events: Event[] }>(token, ['events', 'list', '--limit', '1000'])).events;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    await ipam.ready;
    api = await startApi(nats.options('api'), ['tenant-a']);
    token = api.tokens['tenant-a']!;
  });

  afterAll(async () => {
    await api?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('is stored on every event of the command, with its actor and correlation, and shown by events list', async () => {
    const net = await api.json<{ id: string }>(token, ['--reason', 'CHG-1042: the web tier', 'network', 'create', '--name', 'web']);
    // Deleting a network writes two events (closed, deleted): both carry the reason of their request.
    await api.json(token, ['--reason', 'CHG-1043: web tier retired', '--request-id', '0b7c4a1e-2d3f-4e5a-8b6c-7d8e9f0a1b2c', 'network', 'delete', net.id]);
    const mine = (await events()).filter((e) => e.aggregate.id === net.id || e.dataJson.includes(net.id));
    expect(mine.map((e) => [e.type, e.reason, e.actor])).toEqual([
      ['ipam.NetworkCreated', 'CHG-1042: the web tier', 'tenant-a-user'],
      ['ipam.NetworkClosed', 'CHG-1043: web tier retired', 'tenant-a-user'],
      ['ipam.NetworkDeleted', 'CHG-1043: web tier retired', 'tenant-a-user'],
    ]);
    expect(mine[1]!.correlationId).toBe('0b7c4a1e-2d3f-4e5a-8b6c-7d8e9f0a1b2c');
    const table = await api.cli(token, ['events', 'list', '--type', 'ipam.NetworkCreated']);
    expect(table.out).toMatch(/REASON/);
    expect(table.out).toContain('CHG-1042: the web tier');
    // Without --reason: no reason.
    const other = await api.json<{ id: string }>(token, ['network', 'create', '--name', 'plain']);
    expect((await events()).find((e) => e.dataJson.includes(other.id))!.reason).toBe('');
  });

  it('refuses a malformed reason (exit 2) and writes nothing: too long by the API, blank by the CLI (gRPC would drop it)', async () => {
    const before = (await events()).length;
    const long = await api.cli(token, ['--reason', 'x'.repeat(513), 'network', 'create', '--name', 'nope']);
    expect(long.code).toBe(2);
    expect(long.err).toMatch(/^error: INVALID_ARGUMENT: metadata x-reason must be 1-512 printable ASCII characters/);
    const blank = await api.cli(token, ['--reason', '   ', 'network', 'create', '--name', 'nope']);
    expect(blank.code).toBe(2);
    expect(blank.err).toMatch(/--reason.*must not be blank/);
    expect((await events()).length).toBe(before);
  });
});
