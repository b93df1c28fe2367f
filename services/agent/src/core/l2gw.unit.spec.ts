/**
 * The software L2 gateway in the agent: each l2gw key is a VLAN device on
 * its trunk NIC (only when the NIC exists), a learning, non-suppressing port
 * of the network's bridge, named in at most 15 characters; a moved binding
 * is a new device and the old one goes; 1,000 bindings on one NIC are one
 * `ip -batch` process.
 */
import { describe, expect, it } from 'vitest';
import { gatewayMac, type L2Gateway } from '@strata/contracts';
import { desiredState } from '../dataplane/managers.js';
import { batchInvocations } from '../kernel/apply.js';
import { diff } from './diff.js';
import { applyPlanToState } from './model.js';
import { l2gwVlanName } from './names.js';
import type { HostViewSnapshot } from './snapshot.js';
import type { ActualState } from './types.js';

const OPTS = { nsPrefix: 'p-' };
const empty = (devices: string[]): ActualState => ({ namespaces: {}, links: {}, plugs: {}, addrs: {}, fdb: {}, neighs: {}, routes: {}, rules: {}, nft: { tables: {} }, nsNft: {}, hostSysctls: {}, devices });

function gatewayView(bindings: L2Gateway[]): HostViewSnapshot {
  const networks: HostViewSnapshot['networks'] = {};
  for (const b of bindings) {
    const vni = 1000 + Number(b.networkId.slice(1));
    networks[b.networkId] = { id: b.networkId, tenant: 't', vni, mtu: 1450, domainId: b.networkId, gatewayMac: gatewayMac(vni), floodVteps: ['198.18.0.1'], subnets: [] };
  }
  return {
    host: { id: 'gw', vtepIp: '198.18.0.9', publicIp: '203.0.113.9' },
    networks,
    ports: {},
    endpoints: {},
    domains: {},
    groups: {},
    members: {},
    chains: {},
    l2gateways: Object.fromEntries(bindings.map((b) => [b.id, b])),
  };
}

const converge = (view: HostViewSnapshot, from: ActualState): ActualState => applyPlanToState(from, diff(desiredState(view, OPTS).kernel, from));

describe('software L2 gateway', () => {
  it('makes a VLAN device of the trunk NIC in the network bridge, learning and not suppressing, with a name of at most 15 characters', () => {
    const view = gatewayView([{ id: 'b1', networkId: 'n1', nic: 'a-15-char-nic-x', vlan: 100 }]);
    const plan = diff(desiredState(view, OPTS).kernel, empty(['a-15-char-nic-x']));
    const name = l2gwVlanName('a-15-char-nic-x', 100);
    expect(name).toMatch(/^sgl[0-9a-f]{12}$/);
    expect(name.length).toBeLessThanOrEqual(15);
    const add = plan.batches.flatMap((b) => b.ops).find((o) => o.op === 'link-add' && o.link.name === name);
    expect(add).toMatchObject({ link: { kind: 'vlan', master: 'sbr1001', vlan: { parent: 'a-15-char-nic-x', id: 100 }, brport: { learning: true, neighSuppress: false } } });
    const lines = plan.batches.flatMap((b) => batchInvocations(b)).map((i) => i.input ?? '').join('');
    expect(lines).toContain(`link add name ${name} mtu 1450 link a-15-char-nic-x type vlan id 100`);
    expect(lines).toContain(`link set dev ${name} master sbr1001`);
    // Converged: nothing more to do.
    const after = converge(view, empty(['a-15-char-nic-x']));
    expect(diff(desiredState(view, OPTS).kernel, after)).toEqual({ batches: [] });
  });

  it('leaves a binding whose NIC does not exist unmade (the rest goes on)', () => {
    const view = gatewayView([
      { id: 'b1', networkId: 'n1', nic: 'eth9', vlan: 100 },
      { id: 'b2', networkId: 'n2', nic: 'eth1', vlan: 100 },
    ]);
    const links = Object.keys(converge(view, empty(['eth1'])).links);
    expect(links).toContain(l2gwVlanName('eth1', 100));
    expect(links).not.toContain(l2gwVlanName('eth9', 100));
  });

  it('moves a moved binding (a new device, the old one deleted) and removes an unbound one', () => {
    const bound = converge(gatewayView([{ id: 'b1', networkId: 'n1', nic: 'eth1', vlan: 100 }]), empty(['eth1']));
    const movedView = gatewayView([{ id: 'b1', networkId: 'n1', nic: 'eth1', vlan: 200 }]);
    const plan = diff(desiredState(movedView, OPTS).kernel, bound);
    const touched = plan.batches.flatMap((b) => b.ops).map((o) => (o.op === 'link-add' ? `add ${o.link.name}` : o.op === 'link-del' ? `del ${o.name}` : o.op));
    expect(touched).toEqual([`add ${l2gwVlanName('eth1', 200)}`, `del ${l2gwVlanName('eth1', 100)}`]);
    const unbound = converge(gatewayView([]), applyPlanToState(bound, plan));
    expect(Object.keys(unbound.links)).toEqual([]);
  });

  it('1,000 VLANs on one NIC: one ip -batch process creates them, in a phase of their own after the overlay', () => {
    const bindings = Array.from({ length: 1000 }, (_, i): L2Gateway => ({ id: `b${i}`, networkId: `n${i}`, nic: 'trunk0', vlan: i + 1 }));
    const plan = diff(desiredState(gatewayView(bindings), OPTS).kernel, empty(['trunk0']));
    const links = plan.batches.find((b) => b.phase === 'gateway-vlans')!;
    const names = new Set(links.ops.flatMap((o) => (o.op === 'link-add' && o.link.kind === 'vlan' ? [o.link.name] : [])));
    expect(names.size).toBe(1000);
    expect(batchInvocations(links).map((i) => i.argv.join(' '))).toEqual(['ip -batch -']);
    expect(plan.batches.map((b) => b.phase).slice(-1)).toEqual(['gateway-vlans']);
    // The 1,000 networks' bridges and VXLAN devices (flags included) are one process too.
    expect(batchInvocations(plan.batches.find((b) => b.phase === 'links')!).map((i) => i.argv.join(' '))).toEqual(['ip -batch -']);
  });
});
