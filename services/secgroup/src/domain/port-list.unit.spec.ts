/** `port.list`: many ports' security in one query, scoped like `port.get` (another tenant's and unknown ports are left out). */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getPortSecurity, listPortSecurity } from './queries.js';
import { admin, tenantA, tenantB, World } from './test/given.js';

describe('port.list', () => {
  it("answers each named port as port.get does, leaving out unknown ports and another tenant's", () => {
    const w = new World();
    const a1 = w.ipamPortCreated('tenant-a');
    const a2 = w.ipamPortCreated('tenant-a');
    const b1 = w.ipamPortCreated('tenant-b');
    w.reactCreated(a1);
    w.run('port.setSecurity', { portId: a2, enabled: false }, tenantA);
    const unknown = randomUUID();
    const mine = listPortSecurity(w.state, tenantA, { portIds: [a1, a2, b1, unknown, a1] }).items;
    expect(mine.map((v) => v.portId).sort()).toEqual([a1, a2].sort());
    for (const v of mine) expect(v).toEqual(getPortSecurity(w.state, tenantA, { portId: v.portId }));
    expect(listPortSecurity(w.state, tenantB, { portIds: [a1, b1] }).items.map((v) => v.portId)).toEqual([b1]);
    expect(listPortSecurity(w.state, admin, { portIds: [a1, b1] }).items).toHaveLength(2);
  });
});
