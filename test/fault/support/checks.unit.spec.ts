/** The ledger audit on its own: it finds a lost acknowledgement and a request applied twice, and passes a clean log. */
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '@strata/eventlog';
import { auditLedger } from './checks.js';
import { Ledger } from './ledger.js';

const event = (seq: number, type: string, causationId: string | null): StoredEvent => ({
  id: `e${seq}`,
  seq,
  type,
  version: 1,
  subject: `strata.evt.ipam.port.p${seq}`,
  storedAt: '2026-12-06T00:00:00.000Z',
  aggregate: { context: 'ipam', type: 'port', id: `p${seq}` },
  data: {},
  tenant: 't',
  actor: 'a',
  correlationId: causationId ?? 'x',
  causationId,
  occurredAt: '2026-12-06T00:00:00.000Z',
});

const acked = (ledger: Ledger, requestId: string, position: number): void => {
  const e = ledger.sent(requestId, 'port.create');
  e.outcome = 'acknowledged';
  e.position = position;
};

describe('auditLedger', () => {
  it('passes when every acknowledged request caused one event at its position', () => {
    const ledger = new Ledger();
    acked(ledger, 'r1', 1);
    acked(ledger, 'r2', 3);
    expect(auditLedger(ledger, [event(1, 'ipam.PortCreated', 'r1'), event(2, 'secgroup.PortGroupsSet', 'e1'), event(3, 'ipam.PortCreated', 'r2')])).toEqual({ lost: [], duplicated: [] });
  });

  it('reports an acknowledged request with no event at its position as lost', () => {
    const ledger = new Ledger();
    acked(ledger, 'r1', 1);
    acked(ledger, 'r2', 2);
    const { lost } = auditLedger(ledger, [event(1, 'ipam.PortCreated', 'r1'), event(3, 'ipam.PortCreated', 'r2')]);
    expect(lost).toEqual(['r2 port.create (acknowledged at 2)']);
  });

  it('reports a request that caused two events of one type as applied twice', () => {
    const ledger = new Ledger();
    acked(ledger, 'r1', 1);
    const { duplicated } = auditLedger(ledger, [event(1, 'ipam.PortCreated', 'r1'), event(2, 'ipam.PortCreated', 'r1')]);
    expect(duplicated).toEqual(['r1 port.create: ipam.PortCreated ×2']);
  });
});
