/**
 * The software L2 gateway on a real kernel, in namespaces: hypervisor hv1
 * with a VM on network A (VNI 100, 10.0.0.0/24), gateway host hv2 whose NIC
 * `trunk0` is a veth into a "physical" namespace; binding VLAN 100 of
 * trunk0 to network A.
 *
 * Where the kernel has 802.1Q (CONFIG_VLAN_8021Q): a server on VLAN 100 of
 * the physical side and the VM ping each other through the gateway host,
 * and unbinding removes every trace. Where it has not (this CI's kernel:
 * `ip link add … type vlan` answers "Unknown device type"): everything but
 * the VLAN device is realised on both hosts (the gateway host has the
 * network, the hypervisor floods to it), the VLAN device's batch alone
 * fails, with the kernel's reason, and unbinding removes every trace.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import { portDevice } from '@strata/contracts';
import { l2gwVlanName } from './core/names.js';
import { ApplyError } from './kernel/apply.js';
import { hostView, subnet, type Cloud } from './testkit/cloud.js';
import { NetLab, sh, shOk, type LabVm } from './testkit/netlab.js';

const d = describeIf(kernel());

const netA = randomUUID();
const portA = randomUUID();
const binding = randomUUID();
const base: Cloud = {
  hosts: { hv1: '198.18.0.11', hv2: '198.18.0.12' },
  networks: [{ id: netA, tenant: 'A', vni: 100, domainId: netA, subnets: [subnet('sA', '10.0.0.0/24', '10.0.0.1', false)] }],
  domains: [{ id: netA, tenant: 'A', kind: 'network' }],
  ports: [{ id: portA, networkId: netA, mac: '02:aa:00:00:00:11', fixedIps: [{ subnetId: 'sA', ip: '10.0.0.11' }], host: 'hv1' }],
};
const bound: Cloud = { ...base, bindings: [{ id: binding, host: 'hv2', nic: 'trunk0', vlan: 100, networkId: netA }] };
const VLAN_DEVICE = l2gwVlanName('trunk0', 100);

let lab: NetLab;
let vm: LabVm;
let phys: string;
let vlanKernel: boolean;

/** Strata's links in a host's namespace (bridges, VXLAN, gateway VLANs). */
async function strataLinks(ns: string): Promise<string[]> {
  const links = JSON.parse(await sh(['ip', '-n', ns, '-j', 'link', 'show'])) as { ifname: string }[];
  return links.map((l) => l.ifname).filter((n) => /^(sbr|svx|sgw|sgl)/.test(n)).sort();
}

async function floodTargets(ns: string, dev: string): Promise<string[]> {
  const fdb = JSON.parse(await sh(['bridge', '-n', ns, '-j', 'fdb', 'show', 'dev', dev])) as { mac: string; dst?: string }[];
  return fdb.filter((f) => f.mac === '00:00:00:00:00:00' && f.dst).map((f) => f.dst!).sort();
}

d('software L2 gateway (real kernel, namespaces)', () => {
  beforeAll(async () => {
    lab = await NetLab.create(2);
    vm = await lab.addVm('a1', lab.host(1), '02:aa:00:00:00:11', portDevice(portA));
    await lab.configure(vm, '10.0.0.11/24');
    phys = `${lab.prefix}phys`;
    await sh(['ip', 'netns', 'add', phys]);
    await sh(['ip', '-n', lab.host(2).ns, 'link', 'add', 'trunk0', 'type', 'veth', 'peer', 'name', 'sw0', 'netns', phys]);
    await sh(['ip', '-n', lab.host(2).ns, 'link', 'set', 'trunk0', 'up']);
    await sh(['ip', '-n', phys, 'link', 'set', 'sw0', 'up']);
    // The "bare-metal server": VLAN 100 of the physical side, in tenant A's subnet.
    vlanKernel = await shOk(['ip', '-n', phys, 'link', 'add', 'link', 'sw0', 'name', 'srv100', 'type', 'vlan', 'id', '100']);
    if (vlanKernel) {
      await sh(['ip', '-n', phys, 'addr', 'add', '10.0.0.50/24', 'dev', 'srv100']);
      await sh(['ip', '-n', phys, 'link', 'set', 'srv100', 'address', '02:ee:00:00:00:50', 'up']);
    }
    await lab.host(1).dataplane.reconcile(hostView(bound, 'hv1'));
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('binds VLAN 100 of the trunk into network A: the server and the VM reach each other (or, without 802.1Q, only the VLAN device is refused)', async () => {
    const gw = lab.host(2);
    // The hypervisor floods network A to the gateway host.
    expect(await floodTargets(lab.host(1).ns, 'svx100')).toEqual(['198.18.0.12']);
    if (vlanKernel) {
      await gw.dataplane.reconcile(hostView(bound, 'hv2'));
      expect((await gw.dataplane.plan(hostView(bound, 'hv2'))).plan).toEqual({ batches: [] });
      const dev = (JSON.parse(await sh(['ip', '-n', gw.ns, '-d', '-j', 'link', 'show', VLAN_DEVICE])) as { master?: string; linkinfo: { info_slave_data: { learning: boolean; neigh_suppress: boolean } } }[])[0]!;
      expect(dev.master).toBe('sbr100');
      expect(dev.linkinfo.info_slave_data).toMatchObject({ learning: true, neigh_suppress: false });
      await lab.pingEventually(vm, '10.0.0.50');
      expect(await shOk(['ip', 'netns', 'exec', phys, 'ping', '-c', '1', '-W', '1', '10.0.0.11'])).toBe(true);
    } else {
      const failed = await gw.dataplane.reconcile(hostView(bound, 'hv2')).then(
        () => null,
        (e: unknown) => e,
      );
      expect(failed).toBeInstanceOf(ApplyError);
      expect((failed as ApplyError).phase).toBe('gateway-vlans');
      expect((failed as ApplyError).message).toMatch(/Unknown device type/);
      // Everything else is in place: what is left to do is the VLAN device alone.
      const { plan } = await gw.dataplane.plan(hostView(bound, 'hv2'));
      expect(plan.batches.map((b) => [b.phase, b.ops.map((o) => (o.op === 'link-add' ? o.link.name : o.op))])).toEqual([['gateway-vlans', [VLAN_DEVICE]]]);
      // A lone network's binding is L2 only: its bridge and VXLAN, no routing domain.
      expect(await strataLinks(gw.ns)).toEqual(['sbr100', 'svx100']);
      expect(await floodTargets(gw.ns, 'svx100')).toEqual(['198.18.0.11']);
    }
  });

  it('unbinding removes every trace on the gateway host and from the hypervisor', async () => {
    await lab.host(1).dataplane.reconcile(hostView(base, 'hv1'));
    await lab.host(2).dataplane.reconcile(hostView(base, 'hv2'));
    expect(await strataLinks(lab.host(2).ns)).toEqual([]);
    expect(await floodTargets(lab.host(1).ns, 'svx100')).toEqual([]);
    for (const h of lab.hosts) expect((await h.dataplane.plan(hostView(base, h.name))).plan, h.name).toEqual({ batches: [] });
  });
});
