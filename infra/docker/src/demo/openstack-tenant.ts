/**
 * The demo's OpenStack section: one tenant (Keystone project `demo`) built
 * and checked with nothing but the stock `openstack` CLI and its `-f json`
 * output, against Strata's Neutron API found in Keystone's catalog
 * (scenario.ts, OPENSTACK). The member creates the network, subnet, router
 * (an interface on the subnet, a gateway to the operator's external
 * network), a security group and its rules, two ports and a floating IP;
 * admin binds the ports to hv1 and hv2 as a compute service does (Neutron
 * lets only an admin set `binding:host_id`); the compute stand-in boots a VM
 * on each. Checked: `openstack port show` says ACTIVE on the right host, the
 * two VMs ping each other across hosts, the external client reaches the
 * first through its floating IP, and the `strata` CLI given the member's
 * Keystone token (the gRPC API validates it with Keystone) sees the network.
 *
 * Idempotent like the rest of the demo: every resource is looked up by name
 * (the floating IP by its port) before it is created, and the router's
 * interface is added again only to be told it exists, so a re-run writes
 * nothing.
 */
import type { Strata } from './cli.js';
import type { DockerApi } from './docker.js';
import { OpenStackError, type OpenStack } from './openstack.js';
import { OPENSTACK as O, type Outcome } from './scenario.js';
import { readProbe } from '../vm/probe.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// What `openstack … show -f json` prints (Neutron's attribute names, as the CLI renders them).
interface OsNetwork { id: string; mtu: number }
interface OsSubnet { id: string; gateway_ip: string | null }
interface OsRouter { id: string; external_gateway_info: { network_id?: string } | null }
interface OsGroup { id: string }
interface OsPort { id: string; mac_address: string; status: string; binding_host_id: string | null }
// What `openstack … list -f json` prints (the CLI's column headers).
interface OsRow { ID: string; Name?: string }
interface OsRuleRow { 'IP Protocol': string | null; Ethertype: string; 'Port Range': string }
interface OsFloatingIpRow { ID: string; 'Floating IP Address': string }

/** Waits until `probe` gives `expect` (or the attempts run out); the last answer. */
async function until<T>(expect: T, probe: () => Promise<T>, attempts: number, pauseMs: number): Promise<T> {
  let got = await probe();
  for (let i = 1; got !== expect && i < attempts; i++) {
    await sleep(pauseMs);
    got = await probe();
  }
  return got;
}

export async function openstackTenant(os: OpenStack, strata: Strata, docker: DockerApi, project: string): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const record = (o: Omit<Outcome, 'section' | 'ok'>): void => {
    const ok = o.got === o.expect;
    out.push({ section: 'openstack', ...o, ok });
    console.log(`  ${ok ? '✔' : '✘'} [openstack] ${o.what}: ${o.got === null ? 'no answer' : String(o.got)}`);
  };

  // The tenant's network, subnet and router, joined.
  const net = await os.ensure<OsNetwork>('demo', ['network'], O.network, []);
  const subnet = await os.ensure<OsSubnet>('demo', ['subnet'], O.subnet, ['--network', net.id, '--subnet-range', O.cidr]);
  const router = await os.ensure<OsRouter>('demo', ['router'], O.router, []);
  // Strata's router interfaces are subnets, not ports (there is no router port to look for): Neutron answers a
  // subnet already joined with its 400, which writes nothing, and that is how a re-run knows.
  try {
    await os.exec('demo', ['router', 'add', 'subnet', router.id, subnet.id]);
    console.log(`$ openstack --os-cloud demo router add subnet ${O.router} ${O.subnet}`);
  } catch (e) {
    if (!(e instanceof OpenStackError) || !/already has a port on subnet/.test(e.stderr)) throw e;
  }

  // The security group: ping and tcp/443 in from anywhere, and out to anywhere (Neutron's default egress rules, when the group lacks them).
  const group = await os.ensure<OsGroup>('demo', ['security', 'group'], O.group, ['--description', `ping and tcp/${O.servicePort} from anywhere`]);
  const rules = (direction: 'ingress' | 'egress'): Promise<OsRuleRow[]> => os.json<OsRuleRow[]>('demo', ['security', 'group', 'rule', 'list', group.id, `--${direction}`]);
  const [egress, ingress] = [await rules('egress'), await rules('ingress')];
  const wanted: Array<{ have: boolean; args: string[] }> = [
    { have: egress.some((r) => r.Ethertype === 'IPv4' && r['IP Protocol'] === null), args: ['--egress', '--ethertype', 'IPv4'] },
    { have: ingress.some((r) => r['IP Protocol'] === 'icmp'), args: ['--ingress', '--protocol', 'icmp'] },
    { have: ingress.some((r) => r['IP Protocol'] === 'tcp' && r['Port Range'] === `${O.servicePort}:${O.servicePort}`), args: ['--ingress', '--protocol', 'tcp', '--dst-port', String(O.servicePort)] },
  ];
  for (const w of wanted.filter((x) => !x.have)) await os.json('demo', ['security', 'group', 'rule', 'create', ...w.args, group.id], { show: true });
  await os.show('demo', ['security', 'group', 'rule', 'list', O.group]);

  // Two ports: the member creates them, admin binds each to its hypervisor (as Nova does), the compute stand-in boots the VM.
  const prefix = O.cidr.split('/')[1]!;
  const ports: OsPort[] = [];
  for (const vm of O.vms) {
    const port = await os.ensure<OsPort>('demo', ['port'], vm.name, [
      '--network', net.id, '--fixed-ip', `subnet=${subnet.id},ip-address=${vm.ip}`, '--security-group', group.id, '--device', vm.name, '--device-owner', 'compute:nova',
    ]);
    // Only an admin sees binding:host_id (Neutron's policy): the binding is looked at as admin.
    if ((await os.json<OsPort>('admin', ['port', 'show', port.id])).binding_host_id !== vm.host) {
      await os.exec('admin', ['port', 'set', '--host', vm.host, port.id]);
      console.log(`$ openstack --os-cloud admin port set --host ${vm.host} ${port.id}   # the compute service binds the port`);
    }
    ports.push(port);
    const gw = subnet.gateway_ip ? ['--gateway', subnet.gateway_ip] : [];
    process.stdout.write(await docker.run(project, vm.host, ['strata-vm', 'create', vm.name, '--port', port.id, '--mac', port.mac_address, '--ip', `${vm.ip}/${prefix}`, '--mtu', String(net.mtu), ...gw]));
    await docker.run(project, vm.host, ['strata-vm', 'serve', vm.name, String(O.servicePort)]);
  }

  // Realised: what `openstack port show` says (to the member) once each port's hypervisor has applied it, and where
  // it is bound (to admin).
  for (const [i, vm] of O.vms.entries()) {
    const id = ports[i]!.id;
    const status = async (): Promise<string> => (await os.json<OsPort>('demo', ['port', 'show', id])).status;
    const got = await until('ACTIVE', status, 60, 1_000);
    const host = (await os.json<OsPort>('admin', ['port', 'show', id])).binding_host_id ?? '(unbound)';
    record({ what: `openstack port show ${vm.name}: ACTIVE, bound to ${vm.host}`, from: vm.name, to: id, port: 'ping', expect: `ACTIVE on ${vm.host}`, got: `${got} on ${host}` });
  }

  // Real packets: one VM to the other, across hosts.
  const [one, two] = O.vms;
  const ping = async (): Promise<string | null> => {
    const seen = readProbe(await docker.exec(await docker.container(project, one.host), ['strata-vm', 'ping', one.name, two.ip]));
    if (seen.kind === 'failed') throw new Error(seen.why);
    return seen.kind === 'answered' ? 'reply' : null;
  };
  record({ what: `${one.name} (${one.host}) pings ${two.name} (${two.host})`, from: one.name, to: two.ip, port: 'ping', expect: 'reply', got: await until<string | null>('reply', ping, 60, 500) });

  // The router's gateway to the operator's external network, and a floating IP for the first VM.
  record(await floatingIp(os, docker, project, router, ports[0]!.id));

  // The other front door: the strata CLI (gRPC API) with the member's Keystone token sees the same tenant.
  const token = await os.json<{ id: string; project_id: string }>('demo', ['token', 'issue']);
  console.log(`$ STRATA_TOKEN=<openstack --os-cloud demo token issue> strata network list   # project ${token.project_id}`);
  const seen = JSON.parse(await strata.execWithToken(token.id, ['network', 'list', '-o', 'json'])) as { items: Array<{ name: string }> };
  const names = seen.items.map((n) => n.name);
  record({ what: `the strata CLI with the member's Keystone token lists ${O.network}`, from: 'strata', to: token.project_id, port: 'ping', expect: O.network, got: names.includes(O.network) ? O.network : names.join(', ') || '(none)' });

  await os.show('demo', ['network', 'list']);
  await os.show('demo', ['port', 'list', '--network', O.network]);
  await os.show('demo', ['floating', 'ip', 'list']);
  return out;
}

/**
 * The member sets the router's gateway to the operator's external network (the floating-IP pool, as Neutron
 * lists it) and makes a floating IP for the port; the external client must reach the VM through it. A missing
 * external network fails this check (and only this one): the rest of the demo still runs.
 */
async function floatingIp(os: OpenStack, docker: DockerApi, project: string, router: OsRouter, portId: string): Promise<Omit<Outcome, 'section' | 'ok'>> {
  const vm = O.vms[0];
  const what = `the external client reaches ${vm.name} through its floating IP`;
  const external = await os.json<OsRow[]>('demo', ['network', 'list', '--external']);
  const pool = external.find((n) => n.Name === 'floating-ips') ?? external[0];
  if (!pool) return { what, from: 'client', to: vm.name, port: O.servicePort, expect: vm.name, got: 'openstack network list --external lists no external network (the floating-IP pool)' };
  if (router.external_gateway_info?.network_id !== pool.ID) {
    await os.exec('demo', ['router', 'set', '--external-gateway', pool.ID, router.id]);
    console.log(`$ openstack --os-cloud demo router set --external-gateway ${pool.Name ?? pool.ID} ${O.router}`);
  }
  const held = await os.json<OsFloatingIpRow[]>('demo', ['floating', 'ip', 'list', '--port', portId]);
  const address = held[0]
    ? held[0]['Floating IP Address']
    : (await os.json<{ floating_ip_address: string }>('demo', ['floating', 'ip', 'create', '--port', portId, pool.ID], { show: true })).floating_ip_address;
  const client = await docker.container(project, 'client');
  const reach = async (): Promise<string | null> => {
    const r = await docker.exec(client, ['busybox', 'nc', '-w', '2', address, String(O.servicePort)]);
    return r.code === 0 ? r.stdout.trim() : null;
  };
  return { what: `${what} ${address}`, from: 'client', to: `${address}:${O.servicePort}`, port: O.servicePort, expect: vm.name, got: await until<string | null>(vm.name, reach, 90, 500) };
}
