/**
 * The chaining tests' tenant: the overlay scenario's router with its two
 * networks (10.0.0.0/24, 10.0.1.0/24), a third network for the appliances
 * (10.0.2.0/24) on the same router, and a security group `web` that
 * classifiers name.
 */
import type { SecurityGroupView } from '@strata/contracts';
import type { Lab, Vm } from '@strata/lab';
import { tenantWithRouter, type TenantSetup } from '../overlay/scenario.js';

export async function chainingTenant(lab: Lab): Promise<{ t: TenantSetup; web: SecurityGroupView }> {
  const t = await tenantWithRouter(lab, 'tenant-a');
  const net = await lab.ipam.command('network.create', { name: 'appliances' }, t.who);
  const subnet = await lab.ipam.command('subnet.create', { networkId: net.id, cidr: '10.0.2.0/24' }, t.who);
  await lab.ipam.command('router.addInterface', { id: t.routerId, subnetId: subnet.id }, t.who);
  t.nets.push(net);
  t.subnets.push(subnet);
  const web = await lab.secgroup.command('group.create', { name: 'web', description: 'the web tier' }, t.who);
  return { t, web };
}

/** Add the VM's port to a group, keeping the groups it has (its tenant's default group). */
export async function joinGroup(lab: Lab, t: TenantSetup, vm: Vm, groupId: string): Promise<void> {
  const current = await lab.secgroup.query('port.get', { portId: vm.port.id }, t.who);
  await lab.secgroup.command('port.setGroups', { portId: vm.port.id, groupIds: [...current.groupIds, groupId] }, t.who);
}
