#!/usr/bin/env node
/**
 * The compose lab's demo job (docker-compose.yml service `demo`): builds the
 * scenario of ./scenario.ts with the `strata` CLI, boots the VMs in the
 * hypervisor containers through the lab's compute stand-in (`strata-vm`,
 * reached over the Docker Engine API), then checks real packets: reachability,
 * overlapping addresses, tenant isolation, the three-tier security groups,
 * NAT and BGP, a firewall inserted between two tiers by a service chain, and
 * one more tenant driven only with the stock `openstack` CLI through Strata's
 * Neutron API and Keystone (./openstack-tenant.ts).
 * Idempotent: a second run finds everything in place and checks again.
 *
 * The last line of output is `DEMO-RESULT {json}` (what the smoke test reads);
 * the exit code is 0 only when every check gave the expected answer.
 */
import { CliError, Strata } from './cli.js';
import { DockerApi } from './docker.js';
import { OpenStack } from './openstack.js';
import { openstackTenant } from './openstack-tenant.js';
import { readProbe } from '../vm/probe.js';
import { CHECKS, CIDRS, FIREWALL, GROUPS, HYPERVISORS, SERVICE_PORTS, TENANTS, VMS, type Check, type GroupSpec, type Outcome } from './scenario.js';

const bold = (s: string): string => `\x1b[1m${s}\x1b[0m`;
const step = (s: string): void => console.log(`\n${bold(`==> ${s}`)}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Net { id: string; mtu: number }
interface Subnet { id: string; cidr: string; gatewayIp?: string }
interface Port { id: string; mac: string }
interface Page<T> { items: T[] }

const strata = new Strata();
const docker = new DockerApi();
const underlayPrefix = process.env['STRATA_LAB_UNDERLAY_PREFIX'] ?? '198.18.0';

async function waitForApi(): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await strata.exec('admin', ['hypervisor', 'list']);
      return;
    } catch (e) {
      if (i >= 120) throw new Error(`the API at ${strata.server} did not answer within 60 s: ${(e as Error).message}`);
      await sleep(500);
    }
  }
}

/** Pools and hypervisors: the operator's part (admin token). */
async function registerHypervisors(): Promise<{ floatingIpPool: string }> {
  const pool = await strata.json<{ id: string }>('admin', ['pool', 'create', '--cidr', '198.51.100.0/24', '--purpose', 'host-ip', '--name', 'host-ips'], { once: 'pool:host-ip', show: true });
  const fipPool = await strata.json<{ id: string }>('admin', ['pool', 'create', '--cidr', '203.0.113.128/25', '--purpose', 'floating-ip', '--name', 'floating-ips'], { once: 'pool:floating-ip', show: true });
  const known = new Set((await strata.json<Page<{ id: string }>>('admin', ['hypervisor', 'list'])).items.map((h) => h.id));
  for (const [i, hv] of HYPERVISORS.entries()) {
    if (known.has(hv)) continue;
    await strata.json('admin', ['hypervisor', 'register', hv, '--vtep-ip', `${underlayPrefix}.${11 + i}`, '--host-pool', pool.id], { show: true });
  }
  await strata.show('admin', ['hypervisor', 'list']);
  return { floatingIpPool: fipPool.id };
}

/** Two networks per tenant with the same ranges, joined by the tenant's router. */
async function tenantNetworks(tenant: (typeof TENANTS)[number]): Promise<{ nets: Net[]; subnets: Subnet[]; routerId: string }> {
  const nets: Net[] = [];
  const subnets: Subnet[] = [];
  for (const [i, cidr] of CIDRS.entries()) {
    const net = await strata.json<Net>(tenant, ['network', 'create', '--name', `net${i}`], { once: `${tenant}:net${i}` });
    nets.push(net);
    subnets.push(await strata.json<Subnet>(tenant, ['subnet', 'create', '--network', net.id, '--cidr', cidr, '--name', `subnet${i}`], { once: `${tenant}:subnet${i}` }));
  }
  const router = await strata.json<{ id: string }>(tenant, ['router', 'create', '--name', 'router'], { once: `${tenant}:router` });
  const joined = new Set((await strata.json<{ interfaces: { subnetId: string }[] }>(tenant, ['router', 'show', router.id])).interfaces.map((i) => i.subnetId));
  for (const s of subnets) if (!joined.has(s.id)) await strata.json(tenant, ['router', 'add-interface', router.id, '--subnet', s.id]);
  return { nets, subnets, routerId: router.id };
}

/** tenant-a's web, app and db groups: egress anything, one ingress rule each. */
async function securityGroups(): Promise<Record<GroupSpec['name'], string>> {
  const ids: Partial<Record<GroupSpec['name'], string>> = {};
  for (const g of GROUPS) {
    const group = await strata.json<{ id: string }>('tenant-a', ['secgroup', 'create', '--name', g.name], { once: `sg:${g.name}` });
    ids[g.name] = group.id;
    for (const ethertype of ['IPv4', 'IPv6']) {
      await strata.json('tenant-a', ['secgroup', 'rule', 'create', group.id, '--direction', 'egress', '--ethertype', ethertype], { once: `sg:${g.name}:egress:${ethertype}` });
    }
    const from = 'cidr' in g.from ? ['--remote-cidr', g.from.cidr] : ['--remote-group', ids[g.from.group]!];
    const rule = ['secgroup', 'rule', 'create', group.id, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', String(g.port), ...from];
    await strata.json('tenant-a', rule, { once: `sg:${g.name}:ingress`, show: true });
  }
  await strata.show('tenant-a', ['secgroup', 'list']);
  return ids as Record<GroupSpec['name'], string>;
}

const inHypervisor = (project: string, host: string, argv: string[]): Promise<string> => docker.run(project, host, argv);

/** Create each VM's port (bound to its host) and boot the VM there; the ports by VM name. */
async function bootVms(project: string, tenants: Record<string, { nets: Net[]; subnets: Subnet[] }>, groups: Record<string, string>): Promise<Map<string, Port>> {
  const ports = new Map<string, Port>();
  for (const vm of VMS) {
    const { nets, subnets } = tenants[vm.tenant]!;
    const net = nets[vm.net]!;
    const subnet = subnets[vm.net]!;
    const port = await strata.json<Port>(
      vm.tenant,
      ['port', 'create', '--network', net.id, '--name', vm.name, '--fixed-ip', `subnet=${subnet.id},ip=${vm.ip}`, '--host', vm.host, '--device', vm.name],
      { once: `port:${vm.name}` },
    );
    ports.set(vm.name, port);
    if (vm.group) await strata.json(vm.tenant, ['port', 'set-groups', port.id, groups[vm.group]!]);
    const prefix = subnet.cidr.split('/')[1]!;
    const gw = subnet.gatewayIp ? ['--gateway', subnet.gatewayIp] : [];
    process.stdout.write(await inHypervisor(project, vm.host, ['strata-vm', 'create', vm.name, '--port', port.id, '--mac', port.mac, '--ip', `${vm.ip}/${prefix}`, '--mtu', String(net.mtu), ...gw]));
    await inHypervisor(project, vm.host, ['strata-vm', 'serve', vm.name, ...SERVICE_PORTS.map(String)]);
  }
  return ports;
}

/**
 * Realisation: each VM's port is ACTIVE once its own hypervisor and every hypervisor holding it have applied it
 * (`strata wait`, what a compute service waits for before it boots the VM); the agents report to the status service.
 */
async function realisation(ports: Map<string, Port>): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const vm of VMS) {
    const port = ports.get(vm.name)!;
    const what = `${vm.name}'s port ACTIVE on ${vm.host} and every host that reaches it`;
    let got: string;
    try {
      got = (await strata.exec(vm.tenant, ['wait', 'port', port.id, '--timeout', '90s'])).trim().split('\n').at(-1) ?? '';
    } catch (e) {
      got = (e as Error).message;
    }
    const ok = /ACTIVE|realised/i.test(got) && !/timed out/i.test(got);
    out.push({ section: 'realisation', what, from: vm.name, to: port.id, port: 'ping', expect: 'ACTIVE', got, ok });
    console.log(`  ${ok ? '✔' : '✘'} [realisation] ${what}: ${got}`);
  }
  await strata.show('tenant-a', ['port', 'list']);
  await strata.show('tenant-b', ['port', 'list']);
  await strata.show('admin', ['hypervisor', 'list']);
  return out;
}

/** Updates: a port's description changes (its revision moves); an update naming a stale revision is refused and writes nothing. */
async function updates(ports: Map<string, Port>): Promise<Outcome[]> {
  const port = ports.get('a-w1')!;
  await strata.show('tenant-a', ['port', 'update', port.id, '--description', 'web tier, first VM']);
  const what = 'an update naming a stale revision is refused';
  let got: string;
  try {
    await strata.exec('tenant-a', ['port', 'update', port.id, '--description', 'overwritten', '--expected-revision', '1']);
    got = 'accepted';
  } catch (e) {
    got = (e as CliError).stderr?.trim() ?? (e as Error).message;
  }
  const ok = /FAILED_PRECONDITION.*revision/.test(got);
  console.log(`\n$ strata port update ${port.id} --description overwritten --expected-revision 1   # as tenant-a\n${got}`);
  console.log(`  ${ok ? '✔' : '✘'} [updates] ${what}`);
  return [{ section: 'updates', what, from: 'a-w1', to: port.id, port: 'ping', expect: 'FAILED_PRECONDITION', got, ok }];
}

/** One attempt: the name of the VM that answered, true for a ping reply, null for no answer; throws when the probe did not run. */
async function probe(project: string, c: Check): Promise<string | true | null> {
  const host = VMS.find((v) => v.name === c.from)!.host;
  const argv = c.port === 'ping' ? ['strata-vm', 'ping', c.from, c.to] : ['strata-vm', 'connect', c.from, c.to, String(c.port)];
  const seen = readProbe(await docker.exec(await docker.container(project, host), argv));
  if (seen.kind === 'failed') throw new Error(seen.why);
  if (seen.kind === 'no-answer') return null;
  return c.port === 'ping' ? true : seen.stdout.trim();
}

/**
 * Expected answers are awaited (the data plane converges asynchronously); refusals are checked once, after. A probe
 * that did not run fails its check at once, whatever the check expected: it saw nothing.
 */
async function runChecks(project: string): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const ordered = [...CHECKS.filter((c) => c.expect !== null), ...CHECKS.filter((c) => c.expect === null)];
  for (const c of ordered) {
    const target = `${c.to}${c.port === 'ping' ? ' (ping)' : `:${c.port}`}`;
    try {
      let got = await probe(project, c);
      for (let i = 0; c.expect !== null && got !== c.expect && i < 60; i++) {
        await sleep(500);
        got = await probe(project, c);
      }
      const ok = got === c.expect;
      outcomes.push({ ...c, got, ok });
      const seen = got === null ? 'no answer' : got === true ? 'reply' : `answered by ${got || '(nothing)'}`;
      console.log(`  ${ok ? '✔' : '✘'} [${c.section}] ${c.what}: ${c.from} -> ${target}: ${seen}`);
    } catch (e) {
      outcomes.push({ ...c, got: null, ok: false, error: (e as Error).message });
      console.log(`  ✘ [${c.section}] ${c.what}: ${c.from} -> ${target}: ${(e as Error).message}`);
    }
  }
  return outcomes;
}

const publicPrefix = process.env['STRATA_LAB_PUBLIC_PREFIX'] ?? '203.0.113';

/** The operator configures the BGP gateway; tenant-a gets a floating IP on a-w1 and an external gateway on its router. */
async function natAndBgp(project: string, floatingIpPool: string, routerId: string): Promise<Outcome[]> {
  const gateway = `${underlayPrefix}.2`;
  await strata.json('admin', ['bgp', 'settings', 'set', '--local-as', '65010', '--router-id', gateway], { show: true });
  await strata.json('admin', ['bgp', 'peer', 'create', '--name', 'border', '--address', `${underlayPrefix}.1`, '--remote-as', '65000'], { once: 'bgp:peer:border', show: true });
  await strata.json('tenant-a', ['router', 'set-gateway', routerId, '--enable'], { show: true });
  const fip = await strata.json<{ id: string; address: string }>('tenant-a', ['floatingip', 'create', '--pool', floatingIpPool], { once: 'fip:web', show: true });
  const web = (await strata.json<Page<{ id: string; name: string }>>('tenant-a', ['port', 'list'])).items.find((p) => p.name === 'a-w1')!;
  await strata.json('tenant-a', ['floatingip', 'associate', fip.id, web.id], { once: 'fip:web:associate', show: true });
  const hv3 = (await strata.json<Page<{ id: string; publicIp: string }>>('admin', ['hypervisor', 'list'])).items.find((h) => h.id === 'hv3')!;
  const clientIp = `${publicPrefix}.10`;

  const exec = async (container: string, argv: string[]): Promise<string | null> => {
    const r = await docker.exec(await docker.container(project, container), argv);
    return r.code === 0 ? r.stdout.trim() : null;
  };
  const checks: Array<{ what: string; from: string; to: string; expect: string; probe: () => Promise<string | null> }> = [
    {
      what: 'the border learned the floating IP by BGP, next hop hv1',
      from: 'border',
      to: `${fip.address}/32`,
      expect: `via ${underlayPrefix}.11`,
      probe: async () => {
        const route = await exec('border', ['ip', 'route', 'show', `${fip.address}/32`]);
        return route && route.includes('proto bgp') ? `via ${/via (\S+)/.exec(route)?.[1] ?? '?'}` : null;
      },
    },
    { what: 'the internet client reaches web through its floating IP', from: 'client', to: `${fip.address}:443`, expect: 'a-w1', probe: () => exec('client', ['busybox', 'nc', '-w', '2', fip.address, '443']) },
    {
      what: "a VM without a floating IP goes out with its hypervisor's H-IP (PNAT)",
      from: 'a-c',
      to: `${clientIp}:8081`,
      expect: hv3.publicIp,
      probe: async () => {
        // A plain HTTP/1.0 request over nc (busybox wget crashes in the hypervisor image's VM namespaces).
        const request = `printf 'GET /cgi-bin/whoami HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 2 ${clientIp} 8081`;
        const seen = await exec('hv3', ['strata-vm', 'exec', 'a-c', 'sh', '-c', request]);
        return seen ? (/\[?(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)\]?\s*$/.exec(seen)?.[1] ?? seen) : null;
      },
    },
  ];
  const out: Outcome[] = [];
  for (const c of checks) {
    let got = await c.probe();
    for (let i = 0; got !== c.expect && i < 90; i++) {
      await sleep(500);
      got = await c.probe();
    }
    const ok = got === c.expect;
    out.push({ section: 'nat', what: c.what, from: c.from, to: c.to, port: 0, expect: c.expect, got, ok });
    console.log(`  ${ok ? '✔' : '✘'} [nat] ${c.what}: ${c.from} -> ${c.to}: ${got ?? 'no answer'}`);
  }
  await strata.show('admin', ['bgp', 'advertisement', 'list']);
  return out;
}

/** The firewall's own table: what it forwarded to the app tier's tcp/9000, and everything it forwarded. */
const FIREWALL_TABLE = `table inet appliance {
  counter to_app {}
  counter forwarded {}
  chain forward { type filter hook forward priority 0; policy accept; counter name forwarded; tcp dport ${FIREWALL.port} counter name to_app; }
}`;

/**
 * The firewall VM of the service-chaining step, booted with the other VMs (in a lab brought up again, the chain is
 * already in the log and steers web → app to it from the start): its port has port security off and no security
 * group (it forwards traffic of other addresses); it routes, and counts what it forwards.
 */
async function bootFirewall(project: string, t: { nets: Net[]; subnets: Subnet[] }): Promise<Port> {
  const net = t.nets[FIREWALL.net]!;
  const subnet = t.subnets[FIREWALL.net]!;
  const who = FIREWALL.tenant;
  const port = await strata.json<Port>(
    who,
    ['port', 'create', '--network', net.id, '--name', FIREWALL.name, '--fixed-ip', `subnet=${subnet.id},ip=${FIREWALL.ip}`, '--host', FIREWALL.host, '--device', FIREWALL.name],
    { once: `port:${FIREWALL.name}` },
  );
  await strata.json(who, ['port', 'set-groups', port.id, '--none']);
  await strata.json(who, ['port', 'set-security', port.id, 'off']);
  const prefix = subnet.cidr.split('/')[1]!;
  const gw = subnet.gatewayIp ? ['--gateway', subnet.gatewayIp] : [];
  process.stdout.write(await inHypervisor(project, FIREWALL.host, ['strata-vm', 'create', FIREWALL.name, '--port', port.id, '--mac', port.mac, '--ip', `${FIREWALL.ip}/${prefix}`, '--mtu', String(net.mtu), ...gw]));
  // The appliance routes (and sends no redirects back out of the interface a packet came in by); its table counts.
  const setup = `sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0 && (nft list table inet appliance >/dev/null 2>&1 || echo '${FIREWALL_TABLE}' | nft -f -)`;
  await inHypervisor(project, FIREWALL.host, ['strata-vm', 'exec', FIREWALL.name, 'sh', '-c', setup]);
  return port;
}

/**
 * tenant-a inserts the firewall VM between web and app: a service function on its port, a function group, a
 * classifier (tcp/9000 from group web to the app subnet) and a chain on the router. Then web → app is answered by app
 * and counted by the firewall, and a flow the classifier does not take (app → db) is answered without touching it.
 */
async function serviceChain(project: string, routerId: string, port: Port, groups: Record<GroupSpec['name'], string>): Promise<Outcome[]> {
  const who = FIREWALL.tenant;
  const fn = await strata.json<{ id: string }>(who, ['sfc', 'function', 'create', '--ingress-port', port.id, '--name', 'firewall'], { once: 'sfc:function', show: true });
  const group = await strata.json<{ id: string }>(who, ['sfc', 'group', 'create', '--function', fn.id, '--name', 'firewall'], { once: 'sfc:group', show: true });
  const classifier = await strata.json<{ id: string }>(
    who,
    ['sfc', 'classifier', 'create', '--name', 'web-to-app', '--protocol', 'tcp', '--source-group', groups.web, '--destination-cidr', CIDRS[1], '--destination-ports', String(FIREWALL.port)],
    { once: 'sfc:classifier', show: true },
  );
  await strata.json(who, ['sfc', 'chain', 'create', '--name', 'web-app-firewall', '--router', routerId, '--group', group.id, '--classifier', classifier.id], { once: 'sfc:chain', show: true });
  await strata.show(who, ['sfc', 'chain', 'list']);

  const counters = async (): Promise<{ toApp: number; forwarded: number }> => {
    const out = await inHypervisor(project, FIREWALL.host, ['strata-vm', 'exec', FIREWALL.name, 'nft', '-j', 'list', 'counters', 'table', 'inet', 'appliance']);
    const c = (JSON.parse(out) as { nftables: { counter?: { name: string; packets: number } }[] }).nftables.flatMap((o) => (o.counter ? [o.counter] : []));
    return { toApp: c.find((x) => x.name === 'to_app')?.packets ?? 0, forwarded: c.find((x) => x.name === 'forwarded')?.packets ?? 0 };
  };
  const ip = (vm: string): string => VMS.find((v) => v.name === vm)!.ip;
  const checks: Array<{ what: string; from: string; to: string; port: number; answer: string; firewall: boolean }> = [
    { what: 'web -> app:9000 passes the firewall (steered on web\'s hypervisor)', from: 'a-w1', to: ip('a-a2'), port: FIREWALL.port, answer: 'a-a2', firewall: true },
    { what: 'app -> db:5432 takes the direct path (not classified)', from: 'a-a1', to: ip('a-d1'), port: 5432, answer: 'a-d1', firewall: false },
  ];
  const out: Outcome[] = [];
  for (const c of checks) {
    let got: string | null = null;
    let seen = false;
    for (let i = 0; i < 60; i++) {
      const before = await counters();
      got = (await probe(project, { section: 'service chaining', what: c.what, from: c.from, to: c.to, port: c.port, expect: c.answer })) as string | null;
      const after = await counters();
      seen = after.forwarded > before.forwarded;
      if (got === c.answer && seen === c.firewall) break;
      await sleep(500);
    }
    const ok = got === c.answer && seen === c.firewall;
    const expect = `answered by ${c.answer}, ${c.firewall ? 'through' : 'not through'} the firewall`;
    const result = `${got === null ? 'no answer' : `answered by ${got}`}, ${seen ? 'through' : 'not through'} the firewall`;
    out.push({ section: 'service chaining', what: c.what, from: c.from, to: `${c.to}:${c.port}`, port: c.port, expect, got: result, ok });
    console.log(`  ${ok ? '✔' : '✘'} [service chaining] ${c.what}: ${c.from} -> ${c.to}:${c.port}: ${result}`);
  }
  const { toApp, forwarded } = await counters();
  console.log(`  the firewall's own counters: ${toApp} packets to app:${FIREWALL.port}, ${forwarded} forwarded in all (both directions)`);
  return out;
}

interface AuditEvent { seq: string; storedAt: string; actor: string; reason: string; type: string; eventId: string }

/**
 * The auditor's question, answered from the log: who opened tcp/8443 on the
 * web tier, when and why, and what it changed on the hypervisor of a web VM.
 * The change carries a reason and a request id, so a re-run finds it applied.
 */
async function audit(project: string, groups: Record<string, string>): Promise<Outcome[]> {
  const web = groups['web']!;
  const reason = 'CHG-2041: health checks from the load balancer on 8443';
  const rule = await strata.json<{ id: string }>(
    'tenant-a',
    ['--reason', reason, 'secgroup', 'rule', 'create', web, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', '8443', '--remote-cidr', '10.0.0.0/24'],
    { once: 'audit:web:8443', show: true },
  );
  const blame = await strata.json<{ fields: Array<{ path: string; event: AuditEvent }> }>('tenant-a', ['audit', 'blame', 'security-group', web]);
  const by = blame.fields.find((f) => f.path === `rules[${rule.id}].portMin`)?.event;
  const out: Outcome[] = [];
  const what = 'the rule change is on record: who, when and why';
  const ok = by !== undefined && by.actor === 'tenant-a-user' && by.reason === reason;
  out.push({ section: 'audit', what, from: 'tenant-a', to: web, port: 8443, expect: reason, got: by ? `${by.actor} at position ${by.seq}: ${by.reason}` : null, ok });
  console.log(`  ${ok ? '✔' : '✘'} [audit] ${what}: ${by ? `position ${by.seq}, ${by.storedAt}, ${by.actor}: "${by.reason}"` : 'not found'}`);
  if (!by) return out;
  const before = String(Number(by.seq) - 1);
  await strata.show('tenant-a', ['audit', 'diff', 'security-group', web, '--from', before, '--to', by.seq]);
  const host = VMS.find((v) => v.group === 'web')!.host;
  await strata.show('admin', ['audit', 'host', host, '--from', before, '--to', by.seq]);
  const diff = await strata.json<{ changes: Array<{ change: string; line: { kind: string; text: string }; event: AuditEvent | null }> }>('admin', ['audit', 'host', host, '--from', before, '--to', by.seq]);
  const hostWhat = `${host}'s nftables gained the rule with that very event`;
  const hostOk = diff.changes.some((c) => c.change === 'added' && c.line.kind === 'nft-rule' && /dport 8443\b/.test(c.line.text) && c.event?.seq === by.seq);
  out.push({ section: 'audit', what: hostWhat, from: host, to: web, port: 8443, expect: 'added', got: hostOk ? 'added' : JSON.stringify(diff.changes.slice(0, 5)), ok: hostOk });
  console.log(`  ${hostOk ? '✔' : '✘'} [audit] ${hostWhat}`);
  out.push(await auditInSql(project, web, by), await auditOnKafka(project, web, by));
  return out;
}

/** The same answer from the PostgreSQL read model (pg-projector), in SQL: the group's version made at that position. */
async function auditInSql(project: string, web: string, by: AuditEvent): Promise<Outcome> {
  const sql = `SELECT actor || ' | ' || coalesce(reason, '') FROM strata.versions_security_group WHERE resource_id = '${web}' AND valid_from_seq = ${by.seq}`;
  console.log(`\n$ psql -At -c "${sql}"   # in the postgres container: the read model`);
  const postgres = await docker.container(project, 'postgres');
  let got = '';
  // The read model follows the log; give it a moment to reach the position.
  for (let i = 0; i < 60 && got === ''; i++) {
    if (i > 0) await sleep(500);
    const r = await docker.exec(postgres, ['psql', '-U', 'strata', '-d', 'strata', '-At', '-c', sql]);
    got = r.code === 0 ? r.stdout.trim() : '';
  }
  console.log(got || '(no row)');
  const what = 'the read model answers the same in SQL';
  const ok = got === `${by.actor} | ${by.reason}`;
  console.log(`  ${ok ? '✔' : '✘'} [audit] ${what}`);
  return { section: 'audit', what, from: 'postgres', to: web, port: 8443, expect: `${by.actor} | ${by.reason}`, got: got || null, ok };
}

/** The event on the Kafka topic (kafka-exporter), keyed by the group's id. */
async function auditOnKafka(project: string, web: string, by: AuditEvent): Promise<Outcome> {
  const exporter = await docker.container(project, 'kafka-exporter');
  let line: string | undefined;
  for (let i = 0; i < 20 && line === undefined; i++) {
    if (i > 0) await sleep(1_000);
    const r = await docker.exec(exporter, ['strata-kafka-tail']);
    line = r.stdout.split('\n').find((l) => l.includes(by.eventId));
  }
  console.log(`\n$ strata-kafka-tail | grep ${by.eventId}   # in the kafka-exporter container: the topic strata.events\n${line ?? '(not on the topic)'}`);
  const what = 'the event is on the Kafka topic, keyed by the group';
  const fields = line?.split('\t') ?? [];
  const ok = fields[1] === by.seq && fields[4] === web;
  console.log(`  ${ok ? '✔' : '✘'} [audit] ${what}`);
  return { section: 'audit', what, from: 'kafka', to: web, port: 8443, expect: `position ${by.seq}, key ${web}`, got: line ?? null, ok };
}

async function main(): Promise<number> {
  const project = process.env['STRATA_LAB_PROJECT'] ?? (await docker.ownProject());
  step(`waiting for the API (${strata.server})`);
  await waitForApi();
  step('the operator registers public pools and the three hypervisors');
  const pools = await registerHypervisors();
  step('two tenants create networks with the same address ranges, joined by a router each');
  const tenants: Record<string, { nets: Net[]; subnets: Subnet[]; routerId: string }> = {};
  for (const t of TENANTS) tenants[t] = await tenantNetworks(t);
  await strata.show('tenant-a', ['network', 'list']);
  await strata.show('tenant-b', ['subnet', 'list']);
  step('tenant-a: the three-tier security groups (web, app, db)');
  const groups = await securityGroups();
  step('ports bound to hypervisors; VMs boot there (strata-vm, the lab\'s compute stand-in)');
  const ports = await bootVms(project, tenants, groups);
  const firewall = await bootFirewall(project, tenants['tenant-a']!);
  step('realisation: strata wait returns once each port is ACTIVE (its hypervisor and every hypervisor reaching it applied it)');
  const outcomes = await realisation(ports);
  step('updates: a description changes, a stale revision is refused');
  outcomes.push(...(await updates(ports)));
  step('real packets between the VMs');
  outcomes.push(...(await runChecks(project)));

  step('NAT and BGP: a floating IP for web (a-w1), advertised to the border over BGP; outbound access for the rest');
  outcomes.push(...(await natAndBgp(project, pools.floatingIpPool, tenants['tenant-a']!.routerId)));

  step('OpenStack: the demo project (Keystone) builds a network, subnet, router, security group, two bound ports and a floating IP with the stock openstack CLI');
  outcomes.push(...(await openstackTenant(new OpenStack(docker, project), strata, docker, project)));

  step('service chaining: a firewall VM inserted between web and app by policy (tcp/9000 from group web)');
  outcomes.push(...(await serviceChain(project, tenants['tenant-a']!.routerId, firewall, groups)));

  step('audit: who opened tcp/8443 on the web tier, when and why, and what it changed on a hypervisor (strata audit, the SQL read model, the Kafka topic)');
  outcomes.push(...(await audit(project, groups)));

  step('the event log: what happened, who did it (tenant-a sees only its own events)');
  await strata.show('tenant-a', ['events', 'list', '--limit', '12']);
  await strata.show('admin', ['events', 'list', '--type', 'ipam.HypervisorRegistered']);

  const failed = outcomes.filter((o) => !o.ok);
  step(failed.length === 0 ? `all ${outcomes.length} checks passed` : `${failed.length} of ${outcomes.length} checks FAILED`);
  console.log(`DEMO-RESULT ${JSON.stringify({ passed: outcomes.length - failed.length, failed: failed.length, checks: outcomes })}`);
  return failed.length === 0 ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(`demo failed: ${(e as Error).message}`);
  console.log(`DEMO-RESULT ${JSON.stringify({ passed: 0, failed: -1, error: (e as Error).message })}`);
  process.exitCode = 1;
}
