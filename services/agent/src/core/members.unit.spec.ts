import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GroupMember } from '@strata/contracts';
import { sgRule } from '../testkit/cloud.js';
import { memberOnlyChanges } from '../testkit/members.js';
import { MemberIndex, patchSorted, renderSetDeltas } from './members.js';
import { sgSetName } from './names.js';
import { desiredSecurityGroups } from './secgroups.js';
import type { HostViewSnapshot } from './snapshot.js';

const WEB = 'aaa1';
const APP = 'aaa2';
/** Named by no local rule: its members have no set and must be ignored. */
const OTHER = 'aaa9';

function base(): HostViewSnapshot {
  return {
    host: { id: 'hv1', vtepIp: '198.18.0.11', publicIp: '203.0.113.11' },
    networks: {
      n1: { id: 'n1', tenant: 't', vni: 100, mtu: 1450, domainId: 'n1', gatewayMac: '02:53:47:00:00:64', floodVteps: [], subnets: [] },
    },
    ports: {
      b1: { id: 'b1', tenant: 't', networkId: 'n1', mac: '02:00:00:00:00:01', device: 'tapb1', fixedIps: [], groupIds: [WEB], portSecurity: true },
    },
    endpoints: {},
    domains: {},
    groups: { [WEB]: { id: WEB, tenant: 't', rules: [sgRule('e1', 'ingress', { protocol: 'tcp', portMin: 9000, portMax: 9000, remoteGroupId: APP })] } },
    members: {},
    chains: {},
    l2gateways: {},
  };
}

const setsOf = (v: HostViewSnapshot): Record<string, string[]> =>
  Object.fromEntries(Object.entries(desiredSecurityGroups(v).nft.tables.inet?.sets ?? {}).map(([n, s]) => [n, s.elements]));

const withMembers = (v: HostViewSnapshot, members: Record<string, GroupMember>): HostViewSnapshot => ({ ...v, members });

describe('memberOnlyChanges', () => {
  it('lists added, changed and removed members', () => {
    const m1 = { groupId: APP, portId: 'p1', ips: ['10.0.0.1'] };
    const m2 = { groupId: APP, portId: 'p2', ips: ['10.0.0.2'] };
    const m2b = { groupId: APP, portId: 'p2', ips: ['10.0.0.3'] };
    const m3 = { groupId: APP, portId: 'p3', ips: ['10.0.0.4'] };
    const prev = withMembers(base(), { [`${APP}.p1`]: m1, [`${APP}.p2`]: m2 });
    const next = { ...prev, members: { [`${APP}.p2`]: m2b, [`${APP}.p3`]: m3 } };
    expect(memberOnlyChanges(prev, next)).toEqual([{ before: m1 }, { before: m2, after: m2b }, { after: m3 }]);
  });

  it('refuses (null) when anything but members changed', () => {
    const prev = base();
    const port = { ...prev.ports['b1']!, groupIds: [] };
    expect(memberOnlyChanges(prev, { ...prev, ports: { b1: port } })).toBeNull();
    expect(memberOnlyChanges(prev, { ...prev, groups: {} })).toBeNull();
    expect(memberOnlyChanges(prev, { ...prev, host: { ...prev.host! } })).toBeNull();
    // Same entries in a new record: still member-only (the store copies records on every snapshot).
    expect(memberOnlyChanges(prev, { ...prev, ports: { ...prev.ports } })).toEqual([]);
  });
});

describe('MemberIndex', () => {
  it('renders one transaction of element changes', () => {
    const prev = withMembers(base(), { [`${APP}.p1`]: { groupId: APP, portId: 'p1', ips: ['10.0.0.1', 'fd00::1'] } });
    const next = withMembers(prev, { [`${APP}.p2`]: { groupId: APP, portId: 'p2', ips: ['10.0.0.2'] } });
    const index = new MemberIndex(prev, new Set(Object.keys(setsOf(prev))));
    const deltas = index.apply(memberOnlyChanges(prev, next)!);
    expect(renderSetDeltas(deltas)).toBe(
      `delete element inet strata ${sgSetName(APP, 4)} { 10.0.0.1 }\nadd element inet strata ${sgSetName(APP, 4)} { 10.0.0.2 }\ndelete element inet strata ${sgSetName(APP, 6)} { fd00::1 }\n`,
    );
  });

  it('keeps a shared address while another member still has it', () => {
    const a = { groupId: APP, portId: 'p1', ips: ['10.0.0.1'] };
    const b = { groupId: APP, portId: 'p2', ips: ['10.0.0.1'] };
    const prev = withMembers(base(), { [`${APP}.p1`]: a, [`${APP}.p2`]: b });
    const index = new MemberIndex(prev, new Set(Object.keys(setsOf(prev))));
    const next = withMembers(prev, { [`${APP}.p2`]: b });
    expect(index.apply(memberOnlyChanges(prev, next)!)).toEqual([]);
    expect(index.apply(memberOnlyChanges(next, withMembers(prev, {}))!)).toEqual([{ set: sgSetName(APP, 4), add: [], del: ['10.0.0.1'] }]);
  });

  // The fast path must leave the kernel's sets exactly as the full computation wants them, whatever the sequence.
  it('deltas applied step by step equal the full computation (property)', () => {
    const ip = fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.00.0.4', 'fd00::1', 'FD00:0::2', 'not-an-ip');
    const op = fc.record({
      group: fc.constantFrom(APP, OTHER),
      port: fc.constantFrom('p1', 'p2', 'p3', 'p4'),
      ips: fc.option(fc.array(ip, { maxLength: 3 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }), (batches) => {
        let view = base();
        const kernel = setsOf(view);
        const index = new MemberIndex(view, new Set(Object.keys(kernel)));
        for (const batch of batches) {
          const members = { ...view.members };
          for (const o of batch) {
            const key = `${o.group}.${o.port}`;
            if (o.ips === undefined) delete members[key];
            else members[key] = { groupId: o.group, portId: o.port, ips: o.ips };
          }
          const next = withMembers(view, members);
          for (const d of index.apply(memberOnlyChanges(view, next)!)) patchSorted(kernel[d.set]!, d);
          expect(kernel).toEqual(setsOf(next));
          view = next;
        }
      }),
      { numRuns: 300 },
    );
  });
});
