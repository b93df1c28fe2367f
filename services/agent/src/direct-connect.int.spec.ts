/**
 * Direct Connect through a software gateway host, on a real kernel in
 * namespaces (docs/architecture.md, "Gateway devices, bindings and the
 * software gateway"):
 *
 *   tenant A, router R (route 172.31.0.0/24 via 10.0.0.50):
 *     N1 10.0.0.0/24 (VNI 100): VLAN 100 of gateway host hv2's trunk0 is bound to it
 *     N2 10.1.0.0/24 (VNI 101): VM a2 on hv1 (10.1.0.11)
 *   tenant B: lone network NB 10.1.0.0/24 (VNI 200): VM b2 on hv1 (10.1.0.11, the same address)
 *   customer router (namespace): 10.0.0.50 on the VLAN, 172.31.0.1 behind it, default via 10.0.0.1
 *
 * A2 reaches 172.31.0.1 (routed on hv1 to N1, tunnelled to the gateway host,
 * out of the VLAN) and back (routed once on the gateway host, which realises
 * R); B's VM with the same address reaches nothing of it. The customer
 * router is no port: hv1 learns its MAC and address from hv2's learned-MAC
 * report (observe/gateway-macs-watcher.ts, read from hv2's bridge FDB and
 * R's neighbour table there), recorded as IPAM records an accepted one.
 * Without that report the way out fails: the ARP reply to the anycast
 * gateway MAC stays on the gateway host. Where the kernel
 * has 802.1Q the customer router sits on VLAN 100 of the trunk's far end.
 * This CI's kernel has none (CONFIG_VLAN_8021Q unset): there the trunk's
 * far end is bridged untagged into N1's bridge on the gateway host instead
 * of through the VLAN device the agent cannot create, so everything but the
 * 802.1Q tag is the real path.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import { portDevice, type GatewayMacsObservation } from '@strata/contracts';
import { bridgeName } from './core/names.js';
import { GatewayMacsWatcher } from './observe/gateway-macs-watcher.js';
import { hostView, subnet, type Cloud } from './testkit/cloud.js';
import { NetLab, sh, shOk, type LabVm } from './testkit/netlab.js';

const d = describeIf(kernel());

const [rA, n1, n2, nB, pA2, pB2, bind] = Array.from({ length: 7 }, () => randomUUID());
const CUSTOMER_MAC = '02:cc:00:00:00:50';
const cloud: Cloud = {
  hosts: { hv1: '198.18.0.11', hv2: '198.18.0.12' },
  networks: [
    { id: n1!, tenant: 'A', vni: 100, domainId: rA!, subnets: [subnet('s1', '10.0.0.0/24', '10.0.0.1', false)] },
    { id: n2!, tenant: 'A', vni: 101, domainId: rA!, subnets: [subnet('s2', '10.1.0.0/24', '10.1.0.1', false)] },
    { id: nB!, tenant: 'B', vni: 200, domainId: nB!, subnets: [subnet('sB', '10.1.0.0/24', '10.1.0.1', false)] },
  ],
  domains: [
    { id: rA!, tenant: 'A', kind: 'router' },
    { id: nB!, tenant: 'B', kind: 'network' },
  ],
  routers: { [rA!]: [{ destination: '172.31.0.0/24', nexthop: '10.0.0.50' }] },
  ports: [
    { id: pA2!, networkId: n2!, mac: '02:aa:00:00:01:11', fixedIps: [{ subnetId: 's2', ip: '10.1.0.11' }], host: 'hv1' },
    { id: pB2!, networkId: nB!, mac: '02:bb:00:00:01:11', fixedIps: [{ subnetId: 'sB', ip: '10.1.0.11' }], host: 'hv1' },
  ],
  bindings: [{ id: bind!, host: 'hv2', nic: 'trunk0', vlan: 100, networkId: n1! }],
};

let lab: NetLab;
let vlanKernel: boolean;
let a2: LabVm;
let b2: LabVm;
let cust: string;
/** What hv2's agent reports, and the cloud with it recorded. */
let report: GatewayMacsObservation | null;
let learned: Cloud;

d('Direct Connect through a software gateway host (real kernel, namespaces)', () => {
  beforeAll(async () => {
    lab = await NetLab.create(2);
    a2 = await lab.addVm('a2', lab.host(1), '02:aa:00:00:01:11', portDevice(pA2!));
    await lab.configure(a2, '10.1.0.11/24', '10.1.0.1');
    b2 = await lab.addVm('b2', lab.host(1), '02:bb:00:00:01:11', portDevice(pB2!));
    await lab.configure(b2, '10.1.0.11/24', '10.1.0.1');
    const gw = lab.host(2);
    cust = `${lab.prefix}cust`;
    await sh(['ip', 'netns', 'add', cust]);
    await sh(['ip', '-n', gw.ns, 'link', 'add', 'trunk0', 'type', 'veth', 'peer', 'name', 'up0', 'netns', cust]);
    await sh(['ip', '-n', gw.ns, 'link', 'set', 'trunk0', 'up']);
    await sh(['ip', '-n', cust, 'link', 'set', 'up0', 'up']);
    await sh(['ip', '-n', cust, 'link', 'set', 'lo', 'up']);
    vlanKernel = await shOk(['ip', '-n', cust, 'link', 'add', 'link', 'up0', 'name', 'c0', 'type', 'vlan', 'id', '100']);
    await lab.host(1).dataplane.reconcile(hostView(cloud, 'hv1'));
    if (vlanKernel) {
      await gw.dataplane.reconcile(hostView(cloud, 'hv2'));
    } else {
      // No 802.1Q here: everything but the VLAN device is applied (its batch alone fails), and the trunk's
      // far end is bridged untagged into N1's bridge in its place.
      await gw.dataplane.reconcile(hostView(cloud, 'hv2')).catch(() => undefined);
      await sh(['ip', '-n', gw.ns, 'link', 'set', 'trunk0', 'master', bridgeName(100)]);
      await sh(['ip', '-n', cust, 'link', 'add', 'c0', 'type', 'veth', 'peer', 'name', 'c1']);
      await sh(['ip', '-n', cust, 'link', 'add', 'cbr', 'type', 'bridge']);
      for (const dev of ['up0', 'c1']) await sh(['ip', '-n', cust, 'link', 'set', dev, 'master', 'cbr', 'up']);
      await sh(['ip', '-n', cust, 'link', 'set', 'cbr', 'up']);
    }
    await sh(['ip', '-n', cust, 'link', 'set', 'c0', 'address', CUSTOMER_MAC, 'up']);
    await sh(['ip', '-n', cust, 'addr', 'add', '10.0.0.50/24', 'dev', 'c0']);
    await sh(['ip', '-n', cust, 'addr', 'add', '172.31.0.1/32', 'dev', 'lo']);
    await sh(['ip', '-n', cust, 'route', 'add', 'default', 'via', '10.0.0.1']);
    // The customer router talks to its gateway (as any router on the VLAN does: ARP for its default
    // route's next hop): hv2's bridge learns its MAC behind the VLAN, R's namespace on hv2 its address.
    await sh(['ip', 'netns', 'exec', cust, 'ping', '-c', '1', '-W', '2', '10.0.0.1']);
    // hv2's agent reports what it learned (the real watcher, reading hv2's kernel); IPAM records it.
    const watcher = new GatewayMacsWatcher({
      hostId: 'hv2',
      exec: gw.exec,
      nsPrefix: gw.nsPrefix,
      view: () => hostView(cloud, 'hv2'),
      publish: () => undefined,
      // Without 802.1Q the trunk itself is the bridge port the MACs are learned on.
      ...(vlanKernel ? {} : { deviceOf: () => 'trunk0' }),
    });
    report = await watcher.poll();
    learned = { ...cloud, gatewayMacs: report ? [report] : [] };
    await lab.host(1).dataplane.reconcile(hostView(learned, 'hv1'));
    await gw.dataplane.reconcile(hostView(learned, 'hv2')).catch((err: unknown) => {
      if (vlanKernel) throw err;
    });
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it("hv2 reports the customer router's MAC and address; hv1's view has it behind hv2's VTEP, hv2's own view does not", () => {
    expect(report?.bindings.map((b) => b.bindingId)).toEqual([bind]);
    // (The far end's other interfaces may have been heard too: link-local IPv6 chatter, without addresses.)
    expect(report?.bindings[0]?.macs).toContainEqual({ mac: CUSTOMER_MAC, ips: ['10.0.0.50'] });
    const remote = Object.values(hostView(learned, 'hv1').endpoints).filter((e) => e.mac === CUSTOMER_MAC);
    expect(remote).toEqual([expect.objectContaining({ ips: ['10.0.0.50'], networkId: n1, vtep: '198.18.0.12' })]);
    expect(Object.values(hostView(learned, 'hv2').endpoints).filter((e) => e.mac === CUSTOMER_MAC)).toEqual([]);
  });

  it("tenant A's VM reaches the customer's prefix through its router and the gateway host, and back", async () => {
    const ttl = await lab.pingEventually(a2, '172.31.0.1');
    // Two routed hops on the way back: the gateway host's router, none else (the customer answers with 64).
    expect(ttl).toBe(63);
  });

  it('tenant B, with the same address, reaches nothing of it', async () => {
    for (const ip of ['172.31.0.1', '10.0.0.50']) expect(await lab.ping(b2, ip), ip).toBeNull();
  });

  it('without the report the way out fails (the ARP reply to the anycast gateway MAC stays on the gateway host)', async () => {
    await lab.host(1).dataplane.reconcile(hostView(cloud, 'hv1'));
    await lab.host(2).dataplane.reconcile(hostView(cloud, 'hv2')).catch(() => undefined);
    // The gateway host still realises R (the binding is on R's network) and reaches the customer itself...
    expect(await shOk(['ip', 'netns', 'exec', cust, 'ping', '-c', '1', '-W', '1', '10.0.0.1'])).toBe(true);
    // ...but a VM elsewhere cannot: its hypervisor never learns the customer router's MAC.
    for (let i = 0; i < 3; i++) expect(await lab.ping(a2, '172.31.0.1')).toBeNull();
  });
});
