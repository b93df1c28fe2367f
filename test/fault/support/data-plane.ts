/**
 * The fault tier's data plane: two of the plane's hypervisors (not the
 * load's: plane.ts says why) as network namespaces on an underlay switch, a
 * real agent on each (its own NATS user, every server's URL), and three VMs
 * on one network of the load's tenant, checked with real packets:
 *
 *   a (hv1, group probe)   b (hv2, group probe)   c (hv2, group closed)
 *
 * Group `probe` lets in ping and tcp/80 (plus one port per fault, below);
 * `closed` lets nothing in. So a and b talk across the hosts over VXLAN,
 * while a → b tcp/81 and a → c (ping) are what the policy forbids: the check
 * fails when filtering is lost as well as when forwarding is.
 *
 * Per fault: while it is on (after the injection, before the heal) the
 * established traffic must keep flowing and the forbidden stay blocked
 * (fail static), and a rule opening tcp/<9100+k> to group probe is sent
 * through the API like any client's command (re-sent until answered; in
 * the fault's ledger, so audited as the load is). From the heal on,
 * a → b on that port is probed until it connects: the time to the first
 * packet after the heal. After the control-plane checks pass: the same
 * traffic again, and the new port open. agentsBehind() is part of the
 * control-plane checks: each agent has applied its host's whole view.
 *
 * Namespaces are named `st<random>-…` (per run), and the agents (and what
 * they start) carry a marker; destroy() stops them by PID and deletes every
 * namespace of the prefix, also after a failure (and at exit, without
 * teardown).
 */
import { randomBytes } from 'node:crypto';
import { hostviewBucket, hostviewKey, ViewPosition, type PortView, type SecurityGroupView } from '@strata/contracts';
import {
  agentEnv,
  buildUnderlay,
  deleteAll,
  eventually,
  guardNamespaces,
  IpamClient,
  SecgroupClient,
  SeqTracker,
  startProcess,
  Vm,
  type ControlPlane,
  type Hypervisor,
  type ManagedProcess,
  type Principal,
} from '@strata/lab';
import { LAB_MARKER_ENV } from '@strata/testing';
import type { CommandSigner } from '@strata/runtime';
import type { NatsConnection } from 'nats';
import { fileURLToPath } from 'node:url';
import { connects, listen } from '../../secgroup/tcp.js';
import { metric } from '../../support/metrics.js';
import type { FaultClient } from './client.js';

/** Ports a fault's rule opens: one per fault, 9100 upwards. */
const FIRST_FAULT_PORT = 9100;
const FAULT_PORTS = 16;
/** Never opened by any rule: a → b on it must stay blocked. */
const FORBIDDEN_PORT = 81;
const ALLOWED_PORT = 80;
const AGENT_MAIN = fileURLToPath(new URL('../../../services/agent/dist/main.js', import.meta.url));

/** The hypervisors' namespaces: removed together (destroyHosts). */
export interface Hosts {
  /** Every namespace's name starts with it: `st<random>-`. */
  prefix: string;
  /** STRATA_LAB_RUN of the agents, inherited by what they start (their dnsmasqs). */
  marker: string;
  hosts: Hypervisor[];
  /** Forgets the exit hook's entry (after teardown). */
  unguard: () => void;
}

export class DataPlane {
  private readonly listeners: ManagedProcess[] = [];
  private faults = 0;

  private constructor(
    readonly under: Hosts,
    private readonly probeGroupId: string,
    private readonly vms: Record<'a' | 'b' | 'c', Vm>,
    /** Start (or start again) a hypervisor's agent, with the same environment; resolves once it runs. */
    readonly startAgent: (h: Hypervisor) => Promise<void>,
  ) {}

  host(id: string): Hypervisor {
    const h = this.under.hosts.find((x) => x.id === id);
    if (!h) throw new Error(`no hypervisor ${id} with an agent (have ${this.under.hosts.map((x) => x.id).join(', ')})`);
    return h;
  }

  /** The hypervisors' namespaces and underlay (before the hypervisors are registered: their addresses are the registration's). */
  static async underlay(count: number): Promise<Hosts> {
    const prefix = `st${randomBytes(3).toString('hex')}-`;
    const marker = randomBytes(8).toString('hex');
    const unguard = guardNamespaces(prefix, marker);
    try {
      const { hosts } = await buildUnderlay(prefix, count);
      return { prefix, marker, hosts, unguard };
    } catch (err) {
      await deleteAll(prefix, marker);
      unguard();
      throw err;
    }
  }

  /**
   * Agents on `hosts` (registered by then), then the probe's network, groups
   * and VMs, once every expected path is seen to pass and every forbidden one to be blocked.
   */
  static async start(
    under: Hosts,
    cp: ControlPlane,
    api: NatsConnection,
    signer: CommandSigner,
    tenant: string,
    stateDir: string,
  ): Promise<DataPlane> {
    const { prefix, hosts } = under;
    const startAgent = async (h: Hypervisor): Promise<void> => {
      h.agent = startProcess(`agent-${h.id}`, [process.execPath, AGENT_MAIN], {
        env: { ...cp.natsEnv(`agent-${h.id}`), ...agentEnv(prefix, h, stateDir, 2), STRATA_LOG_LEVEL: 'info', [LAB_MARKER_ENV]: under.marker },
      });
      await h.agent.ready;
    };
    await Promise.all(hosts.map(startAgent));
    const seq = new SeqTracker();
    const ipam = new IpamClient(api, 15_000, seq, signer);
    const secgroup = new SecgroupClient(api, 15_000, seq, signer);
    const who: Principal = { tenant, admin: false };
    const net = await ipam.command('network.create', { name: 'probe' }, who);
    const subnet = await ipam.command('subnet.create', { networkId: net.id, cidr: '10.99.0.0/24' }, who);
    const group = async (name: string, ingress: Array<{ protocol: 'icmp' | 'tcp'; port?: number }>): Promise<SecurityGroupView> => {
      const g = await secgroup.command('group.create', { name, description: '' }, who);
      await secgroup.command('rule.create', { groupId: g.id, direction: 'egress', ethertype: 'IPv4', protocol: 'any' }, who);
      for (const r of ingress) {
        const ports = r.port === undefined ? {} : { portMin: r.port, portMax: r.port };
        await secgroup.command('rule.create', { groupId: g.id, direction: 'ingress', ethertype: 'IPv4', protocol: r.protocol, remoteCidr: '0.0.0.0/0', ...ports }, who);
      }
      return g;
    };
    const probe = await group('probe', [{ protocol: 'icmp' }, { protocol: 'tcp', port: ALLOWED_PORT }]);
    const closed = await group('closed', []);
    const vm = async (name: string, host: Hypervisor, groupId: string): Promise<Vm> => {
      const port: PortView = await ipam.command('port.create', { networkId: net.id, name: `probe-${name}`, hostId: host.id }, who);
      await secgroup.command('port.setGroups', { portId: port.id, groupIds: [groupId] }, who);
      const v = await Vm.boot(`${prefix}vm-${name}`, name, port, host);
      await v.configureStatic({ [subnet.id]: { prefixLength: 24, gatewayIp: null, mtu: net.mtu } });
      return v;
    };
    const [hv1, hv2] = hosts as [Hypervisor, Hypervisor];
    const vms = { a: await vm('a', hv1, probe.id), b: await vm('b', hv2, probe.id), c: await vm('c', hv2, closed.id) };
    const dp = new DataPlane(under, probe.id, vms, startAgent);
    const faultPorts = Array.from({ length: FAULT_PORTS }, (_, i) => FIRST_FAULT_PORT + i);
    dp.listeners.push(await listen(vms.b, [ALLOWED_PORT, FORBIDDEN_PORT, ...faultPorts]), await listen(vms.c, [ALLOWED_PORT]));
    await vms.a.pingEventually(vms.b.ip, 120);
    await eventually(() => connects(vms.a, vms.b.ip, ALLOWED_PORT), `a -> b:${ALLOWED_PORT}`, 80);
    await eventually(async () => (await dp.problems()).length === 0, 'the probe traffic as the policy says', 40);
    return dp;
  }

  /**
   * What the data plane does against what it should, [] when it agrees:
   * a ↔ b ping and a → b tcp/80 across the hosts (VXLAN), a → c ping and
   * a → b tcp/81 blocked, and a → b on each port in `open`.
   */
  async problems(open: readonly number[] = []): Promise<string[]> {
    const { a, b, c } = this.vms;
    const checks: Array<[string, () => Promise<boolean>, boolean]> = [
      ['a -> b ping (hv1 -> hv2, VXLAN)', () => a.pingOnce(b.ip), true],
      ['b -> a ping (hv2 -> hv1, VXLAN)', () => b.pingOnce(a.ip), true],
      [`a -> b tcp/${ALLOWED_PORT}`, () => connects(a, b.ip, ALLOWED_PORT), true],
      ...open.map((p): [string, () => Promise<boolean>, boolean] => [`a -> b tcp/${p} (the fault's rule)`, () => connects(a, b.ip, p), true]),
      [`a -> b tcp/${FORBIDDEN_PORT} (no rule opens it)`, () => connects(a, b.ip, FORBIDDEN_PORT), false],
      ['a -> c ping (group closed lets nothing in)', () => a.pingOnce(c.ip), false],
    ];
    const seen = await Promise.all(checks.map(async ([, probe]) => probe()));
    return checks.flatMap(([what, , expected], i) => (seen[i] === expected ? [] : [`${what}: ${expected ? 'no connection' : 'passed'}`]));
  }

  /**
   * Hosts whose agent has not applied its whole host view, [] when none: the
   * position the kernel reflects (`strata_agent_applied_position`) against
   * the view's own (`<host>.position.view` in its bucket).
   */
  async agentsBehind(admin: NatsConnection): Promise<string[]> {
    const out: string[] = [];
    for (const h of this.under.hosts) {
      const kv = await admin.jetstream().views.kv(hostviewBucket(h.id), { bindOnly: true });
      const entry = await kv.get(hostviewKey.position(h.id));
      const view = entry?.operation === 'PUT' ? ViewPosition.parse(entry.json()).seq : null;
      const applied = await metric(h.agent!, 'strata_agent_applied_position');
      if (applied !== view) out.push(`${h.id}: its agent applied the view at ${applied}, the view is at ${view ?? 'no position'}`);
    }
    return out;
  }

  /** The port the next fault's rule opens (b listens on it; no rule has opened it yet). */
  nextFaultPort(): number {
    if (this.faults === FAULT_PORTS) throw new Error(`more than ${FAULT_PORTS} faults on one data plane: listen on more ports`);
    return FIRST_FAULT_PORT + this.faults++;
  }

  /** The fault's change, sent while the fault is on: a rule opening `port` to group probe, through `client` (re-sent until answered). */
  async faultChange(client: FaultClient, port: number): Promise<void> {
    await client.command('rule.create', (s, md, o, cb) =>
      s.securityGroups.CreateSecurityGroupRule(
        { groupId: this.probeGroupId, direction: 'RULE_DIRECTION_INGRESS', ethertype: 'ETHER_TYPE_IPV4', protocol: 'RULE_PROTOCOL_TCP', portMin: port, remoteCidr: '0.0.0.0/0' },
        md,
        o,
        cb,
      ),
    );
  }

  /** Probe a → b on `port` until it connects (or `timeoutMs`); resolves with when it first did (epoch ms). */
  async firstPacket(port: number, timeoutMs: number): Promise<number> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (await connects(this.vms.a, this.vms.b.ip, port)) return Date.now();
      if (Date.now() > until) throw new Error(`a -> b tcp/${port} not open ${timeoutMs / 1000} s after the heal`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.stop(2_000)));
    await destroyHosts(this.under);
  }
}

/** Stop the agents by PID, then everything in (or marked for) the namespaces of the prefix, and delete them. */
export async function destroyHosts(under: Hosts): Promise<void> {
  await Promise.all(under.hosts.map((h) => h.agent?.stop(5_000).catch(() => undefined)));
  await deleteAll(under.prefix, under.marker);
  under.unguard();
}
