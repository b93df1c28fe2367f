/**
 * The overlay scenario of the end-to-end tests: three hypervisors, two
 * tenants that both use 10.0.0.0/24 and 10.0.1.0/24, each with a router
 * joining its two subnets, and VMs spread so that every path exists:
 * same subnet across hosts, cross-subnet on one host and across hosts.
 */
import type { NetworkView, PortView, SubnetView } from '@strata/contracts';
import type { Lab, Principal, Vm } from '@strata/lab';

export interface TenantSetup {
  who: Principal;
  nets: NetworkView[];
  subnets: SubnetView[];
  routerId: string;
}

export async function tenantWithRouter(lab: Lab, tenant: string): Promise<TenantSetup> {
  const who = { tenant, admin: false };
  const nets: NetworkView[] = [];
  const subnets: SubnetView[] = [];
  for (const cidr of ['10.0.0.0/24', '10.0.1.0/24']) {
    const net = await lab.ipam.command('network.create', { name: `${tenant}-${cidr}` }, who);
    nets.push(net);
    subnets.push(await lab.ipam.command('subnet.create', { networkId: net.id, cidr }, who));
  }
  const router = await lab.ipam.command('router.create', { name: `${tenant}-router` }, who);
  for (const s of subnets) await lab.ipam.command('router.addInterface', { id: router.id, subnetId: s.id }, who);
  return { who, nets, subnets, routerId: router.id };
}

/** Create a port on network `netIndex` of the tenant, bound to `hostId`, and boot a VM on it (static addressing). */
export async function vmOn(lab: Lab, t: TenantSetup, name: string, netIndex: number, hostId: string): Promise<Vm> {
  const port: PortView = await lab.ipam.command('port.create', { networkId: t.nets[netIndex]!.id, name, hostId }, t.who);
  const vm = await lab.addVm(name, port, hostId);
  const subnet = t.subnets[netIndex]!;
  await vm.configureStatic({
    [subnet.id]: { prefixLength: Number(subnet.cidr.split('/')[1]), gatewayIp: subnet.gatewayIp, mtu: t.nets[netIndex]!.mtu },
  });
  return vm;
}
