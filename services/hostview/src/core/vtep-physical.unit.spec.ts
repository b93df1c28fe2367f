/**
 * The vtep controller's events (an `ovsdb` device's local MACs and flood
 * VTEPs, services/vtep) are followed like the BGP gateway's: decoded from the
 * stream and folded by the same physical input node.
 */
import { describe, expect, it } from 'vitest';
import { vtepDeviceAggregate } from '@strata/contracts';
import type { StoredEvent } from '@strata/eventlog';
import { applyEvent, toModelEvent } from './model.js';
import { deriveAll, Given, plain, replay } from './test/given.js';

const stored = (seq: number, type: string, data: unknown): StoredEvent => ({
  id: `e${seq}`,
  seq,
  type,
  version: 1,
  aggregate: vtepDeviceAggregate('tor1'),
  subject: 'strata.evt.vtep.device.tor1',
  storedAt: '2026-01-01T00:00:00.000Z',
  tenant: '_system',
  actor: 'vtep',
  occurredAt: '2026-01-01T00:00:00.000Z',
  correlationId: 'c',
  causationId: null,
  data,
});

describe('vtep events in host views', () => {
  it('a MAC and a flood VTEP an ovsdb device reported reach the hosts of the network with that VNI', () => {
    const g = new Given();
    g.host('h1', '198.18.0.11');
    g.network('n1', 'ta', 100);
    g.port('n1', 'p1', 'h1', '02:00:00:00:00:01', [], 'ta');
    const model = replay(g.events);
    for (const [i, [type, data]] of [
      ['vtep.PhysicalMacLearned', { deviceId: 'tor1', vni: 100, mac: '02:00:00:00:0b:01', vtep: '198.18.0.40' }],
      ['vtep.PhysicalVtepLearned', { deviceId: 'tor1', vni: 100, vtep: '198.18.0.40' }],
    ].entries()) {
      const event = toModelEvent(stored(1000 + i, type as string, data));
      expect(event?.type).toBe(type);
      applyEvent(model, event!);
    }
    const kv = plain(deriveAll(model));
    expect(kv['h1.ep.phys-tor1-100-020000000b01']).toMatchObject({ mac: '02:00:00:00:0b:01', vtep: '198.18.0.40', networkId: 'n1' });
    expect((kv['h1.net.n1'] as { floodVteps: string[] }).floodVteps).toEqual(['198.18.0.40']);
  });
});
