/**
 * A Strata cloud in network namespaces, for end-to-end tests, benchmarks and
 * the demo:
 *
 *   <p>fab           underlay switch (bridge ul0), 198.18.0.0/24
 *   <p>hv1..N        hypervisors: eth0 = 198.18.0.(10+i) on the underlay, and that address
 *                    embedded in the underlay's IPv6 /96 (bgp-fabric.ts `underlay6`)
 *   <p>vm-<name>     VMs: eth0 whose peer (named after the port) sits in a hypervisor
 *
 * The control plane (nats-server on loopback with the production users and
 * permissions, IPAM, hostview) and one agent per hypervisor run as processes
 * in the caller's namespace, each connecting as its own NATS user; the
 * lab's clients connect as the api does (user api, signed requests). Each agent
 * manages its hypervisor's namespace with `ip -n`, as it would manage the
 * host it runs on in production. Nothing outside the lab's namespaces is
 * changed. `destroy()` stops the lab's processes by PID, then every process
 * still inside one of its namespaces or started by its processes (the agents'
 * DHCP servers, detached on purpose), then deletes every namespace with the
 * prefix, also after a failure (netns.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portDevice, type PortView } from '@strata/contracts';
import { ensureHarnessCommandKeys } from '@strata/runtime';
import { freePort, LAB_MARKER_ENV, startPostgres, type NatsServerHandle, type PostgresHandle, type StrataNats } from '@strata/testing';
import { ADMIN, AuditClient, ChainingClient, IpamClient, NatClient, SecgroupClient, StatusClient } from './control-client.js';
import { startProvisionedNats } from './provision.js';
import { startBgpBorder, type BgpBorder } from './bgp-border.js';
import { buildExternal, routeAtBorder, unrouteAtBorder, type ExternalSide } from './external.js';
import { deleteAll, type Netns } from './netns.js';
import { startProcess, type ManagedProcess } from './process.js';
import { agentEnv, buildUnderlay, guardNamespaces, type Hypervisor } from './underlay.js';
import { eventually } from './sh.js';
import { Vm } from './vm.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const main = (service: string): string => join(ROOT, 'services', service, 'dist', 'main.js');

export interface LabOptions {
  hypervisors: number;
  /** Namespace name prefix; default `st<random>-`, unique per run. */
  prefix?: string;
  /** Start an agent per hypervisor (default true). */
  agents?: boolean;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Seconds between an agent's periodic full reconciles. */
  resyncSeconds?: number;
  /** Also run the NAT service (floating IP associations, router gateways); `lab.nat` is then its client. Default false. */
  nat?: boolean;
  /** Also run the service-chaining service; `lab.chaining` is then its client. Default false. */
  chaining?: boolean;
  /** Also run the vtep controller (services/vtep): it drives the `ovsdb` gateway devices the test creates. Default false. */
  vtep?: boolean;
  /**
   * Also run the PostgreSQL read model: a throwaway PostgreSQL cluster
   * (`lab.postgres`) and two pg-projector processes (active and standby)
   * writing the log into it (schema `strata`). Default false.
   */
  postgres?: boolean;
  /** Build the outside world (external.ts): a border router and an internet client; hypervisors route through the border. */
  external?: boolean;
  /**
   * With `external`: the border runs FRR and learns floating IPs by BGP from a
   * Strata BGP gateway (bgp-border.ts) instead of static routes.
   */
  bgp?: boolean;
  /**
   * Plug the hypervisors numbered `hosts` (`hv<i>`, 198.18.0.(10+i)) into a
   * fabric another harness owns instead of building one (`hypervisors` is
   * then ignored): several availability zones on one underlay (zones.ts).
   * The lab never deletes that fabric.
   */
  underlay?: { fabric: Netns; hosts: readonly number[] };
}

export type { Hypervisor };

export class Lab {
  readonly hosts: Hypervisor[] = [];
  readonly vms = new Map<string, Vm>();
  private readonly processes: ManagedProcess[] = [];
  /** How each process was started, for restartControlPlane. */
  private readonly spawned: { name: string; entry: string; env: Record<string, string>; process: ManagedProcess }[] = [];
  /** The processes killControlPlane killed, in start order. */
  private controlPlaneDown: { name: string; entry: string; env: Record<string, string> }[] = [];
  /** STRATA_LAB_RUN of every process this lab starts, inherited by what they start: teardown finds those wherever they run. */
  private readonly marker = randomBytes(8).toString('hex');
  /** Forgets the exit hook's entry for this lab (after its teardown). */
  private unguard: () => void = () => undefined;
  ipam!: IpamClient;
  secgroup!: SecgroupClient;
  /** The status service (always run): ports' status, realisation, the barrier, hypervisors' agents. */
  status!: StatusClient;
  /** The audit service (always run): the catalogue of the log, points in it, hosts at a point. */
  audit!: AuditClient;
  /** Set when the lab was started with `nat: true`. */
  nat?: NatClient;
  /** Set when the lab was started with `chaining: true`. */
  chaining?: ChainingClient;
  nats!: NatsServerHandle;
  /** The server's production users: connection options and environment per user (`admin` for the operator's look). */
  natsUsers!: StrataNats;
  /** The read model's database, with `postgres: true`. */
  postgres?: PostgresHandle;
  fabric!: Netns;
  hostPoolId = '';
  /** Set when the lab was started with `external: true`. */
  external?: ExternalSide;
  /** Set when the lab was started with `bgp: true`. */
  bgp?: BgpBorder;
  /** Each hypervisor's H-IP (its public address for PNAT), as IPAM assigned it. */
  readonly publicIps = new Map<string, string>();

  private constructor(
    readonly prefix: string,
    readonly stateDir: string,
    private readonly options: LabOptions,
  ) {}

  static async start(options: LabOptions): Promise<Lab> {
    const prefix = options.prefix ?? `st${randomBytes(3).toString('hex')}-`;
    const lab = new Lab(prefix, mkdtempSync(join(tmpdir(), `${prefix}lab-`)), options);
    lab.unguard = guardNamespaces(prefix, lab.marker);
    try {
      await lab.buildUnderlay();
      await lab.startControlPlane();
      await lab.registerHypervisors();
      if (options.external) {
        lab.external = await buildExternal(prefix, lab.fabric, lab.hosts);
        // H-IPs: static routes at the border, or advertised by the BGP gateway (bgp).
        if (!options.bgp) for (const h of lab.hosts) await routeAtBorder(lab.external, lab.publicIps.get(h.id)!, h.vtepIp);
        if (options.bgp) {
          lab.bgp = await startBgpBorder({
            prefix,
            fabric: lab.fabric,
            external: lab.external,
            natsUrl: lab.nats.url,
            nc: lab.ipam.nc,
            seq: lab.ipam.seq,
            spawn: (name, service, env) => lab.spawn(name, main(service), { ...lab.natsUsers.env('bgp'), STRATA_HTTP_PORT: '0', ...lab.options.env, ...env }),
          });
        }
      }
      if (options.agents ?? true) await Promise.all(lab.hosts.map((h) => lab.startAgent(h)));
      return lab;
    } catch (e) {
      await lab.destroy();
      throw e;
    }
  }

  /**
   * Until every hypervisor has applied the log up to `position` (default: the last command of this lab's clients):
   * the status service's barrier. Hosts apply the log each on its own; a check spanning hosts waits for this first.
   */
  async realised(position = this.ipam.lastSeq, attempts = 60, intervalMs = 250): Promise<void> {
    await eventually(async () => (await this.status.query('barrier', { position }, ADMIN)).realised, `every host at position ${position}`, attempts, intervalMs);
  }

  host(id: string): Hypervisor {
    const h = this.hosts.find((x) => x.id === id);
    if (!h) throw new Error(`no hypervisor ${id} in this lab`);
    return h;
  }

  private async buildUnderlay(): Promise<void> {
    const { fabric, hosts } = await buildUnderlay(this.prefix, this.options.hypervisors, this.options.underlay);
    this.fabric = fabric;
    this.hosts.push(...hosts);
  }

  private async startControlPlane(): Promise<void> {
    // The lab's clients sign their commands; the services it spawns inherit the verify key.
    ensureHarnessCommandKeys();
    // Production users; the operator has created every stream (no service user may): the log, the snapshot buckets, each host's bucket.
    this.natsUsers = await startProvisionedNats({ agents: this.hosts.map((h) => h.id) });
    this.nats = this.natsUsers.server;
    const env = (user: string): Record<string, string> => ({ ...this.natsUsers.env(user), STRATA_HTTP_PORT: '0', ...this.options.env });
    const ipam = this.spawn('ipam', main('ipam'), env('ipam'));
    await ipam.ready;
    const secgroup = this.spawn('secgroup', main('secgroup'), env('secgroup'));
    const hostview = this.spawn('hostview', main('hostview'), env('hostview'));
    const status = this.spawn('status', main('status'), env('status'));
    // The agents' routing-domain namespaces are named per host here (startAgent): render hosts with the same names.
    const audit = this.spawn('audit', main('audit'), { AUDIT_AGENT_NETNS_PREFIX: `${this.prefix}{host}-`, ...env('audit') });
    await Promise.all([secgroup.ready, hostview.ready, status.ready, audit.ready]);
    if (this.options.nat) await this.spawn('nat', main('nat'), env('nat')).ready;
    if (this.options.vtep) await this.spawn('vtep', main('vtep'), env('vtep')).ready;
    if (this.options.chaining) await this.spawn('chaining', main('chaining'), env('chaining')).ready;
    await this.connectClients();
    if (this.options.postgres) {
      this.postgres = await startPostgres();
      const pgEnv = { ...env('pg-projector'), STRATA_PG_URL: this.postgres.url };
      await Promise.all(['pg-projector', 'pg-projector-standby'].map((name) => this.spawn(name, main('pg-projector'), pgEnv).ready));
    }
  }

  /** The lab's clients, on one connection as user api (as the api does). */
  private async connectClients(): Promise<void> {
    this.ipam = new IpamClient(await this.natsUsers.connect('api'));
    // One read-your-writes position for every client, as in the api.
    this.secgroup = new SecgroupClient(this.ipam.nc, 15_000, this.ipam.seq);
    this.status = new StatusClient(this.ipam.nc, 15_000, this.ipam.seq);
    this.audit = new AuditClient(this.ipam.nc, 15_000, this.ipam.seq);
    if (this.options.nat) this.nat = new NatClient(this.ipam.nc, 15_000, this.ipam.seq);
    if (this.options.chaining) this.chaining = new ChainingClient(this.ipam.nc, 15_000, this.ipam.seq);
  }

  /**
   * A crash of the whole control plane: kill -9 of NATS and of every process
   * the lab started except the agents (the services, a BGP gateway, the api),
   * which keep their hypervisors' kernels as they are (fail static). The
   * lab's clients are closed; `restartControlPlane` brings it all back.
   */
  async killControlPlane(): Promise<void> {
    await this.takeControlPlaneDown('crash');
  }

  /**
   * A planned stop of the whole control plane: SIGTERM to every process the
   * lab started except the agents, each stopping as it does in production,
   * then to NATS (its store kept). The agents fail static as after a crash;
   * `restartControlPlane` brings it all back.
   */
  async stopControlPlane(): Promise<void> {
    await this.takeControlPlaneDown('stop');
  }

  private async takeControlPlaneDown(how: 'crash' | 'stop'): Promise<void> {
    if (this.controlPlaneDown.length > 0) throw new Error('the control plane is already down');
    await this.ipam.close().catch(() => undefined);
    const control = this.spawned.filter((s) => !s.name.startsWith('agent-') && s.process.running());
    await Promise.all(control.map((s) => (how === 'crash' ? s.process.kill9() : s.process.stop())));
    await (how === 'crash' ? this.nats.kill9() : this.nats.halt());
    this.controlPlaneDown = control;
  }

  /**
   * NATS again on the same port and store, then the same processes with the
   * same environment, in the order they first started; the lab's clients
   * reconnect.
   */
  async restartControlPlane(): Promise<void> {
    const down = this.controlPlaneDown;
    if (down.length === 0) throw new Error('the control plane is not down');
    await this.nats.restart();
    for (const s of down) await this.spawn(s.name, s.entry, s.env).ready;
    this.controlPlaneDown = [];
    await this.connectClients();
  }

  private async registerHypervisors(): Promise<void> {
    const pool = await this.ipam.command('pool.create', { name: 'host-ips', cidr: '198.51.100.0/24', purpose: 'host-ip' }, ADMIN);
    this.hostPoolId = pool.id;
    for (const h of this.hosts) {
      const registered = await this.ipam.command('hypervisor.register', { id: h.id, vtepIp: h.vtepIp, hostPoolId: pool.id }, ADMIN);
      this.publicIps.set(h.id, registered.publicIp);
    }
  }

  /**
   * Start the gRPC API on a free loopback port with a bearer token per user
   * (name → its tenant, admin or not; the name is the actor its events
   * carry), for tests that drive the real `strata` CLI against this lab. It
   * signs requests with this process's master key, which the lab's services
   * verify.
   */
  async startApi(users: Record<string, { tenant: string; admin?: boolean }>): Promise<{ addr: string; tokens: Record<string, string> }> {
    const digest = (t: string): string => createHash('sha256').update(t).digest('hex');
    const tokens: Record<string, string> = {};
    const config = Object.entries(users).map(([name, u]) => {
      tokens[name] = `s${randomBytes(16).toString('hex')}`;
      return { name, sha256: digest(tokens[name]!), tenant: u.tenant, admin: u.admin ?? false };
    });
    const file = join(this.stateDir, 'api-tokens.json');
    writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    const addr = `127.0.0.1:${await freePort()}`;
    const api = this.spawn('api', main('api'), {
      ...this.natsUsers.env('api'),
      STRATA_HTTP_PORT: '0',
      STRATA_GRPC_ADDR: addr,
      STRATA_API_TOKENS_FILE: file,
      STRATA_COMMAND_SIGNING_KEY: ensureHarnessCommandKeys().signingKey,
      ...this.options.env,
    });
    await api.ready;
    return { addr, tokens };
  }

  /**
   * Start the Neutron REST service (services/neutron/dist/main.js) on a free
   * loopback port as NATS user `neutron`, signing like the api and
   * validating tokens with Keystone at `keystoneUrl` as the given service
   * user; returns its endpoint (`http://127.0.0.1:<port>`), for tests that
   * drive the stock `openstack` CLI against this lab.
   */
  async startNeutron(keystone: { keystoneUrl: string; serviceUser: string; servicePassword: string; env?: Record<string, string> }): Promise<string> {
    const listen = `127.0.0.1:${await freePort()}`;
    await this.spawn('neutron', main('neutron'), {
      ...this.natsUsers.env('neutron'),
      STRATA_HTTP_PORT: '0',
      STRATA_NEUTRON_LISTEN: listen,
      STRATA_COMMAND_SIGNING_KEY: ensureHarnessCommandKeys().signingKey,
      KEYSTONE_URL: keystone.keystoneUrl,
      KEYSTONE_SERVICE_USER: keystone.serviceUser,
      KEYSTONE_SERVICE_PASSWORD: keystone.servicePassword,
      ...this.options.env,
      ...keystone.env,
    }).ready;
    return `http://${listen}`;
  }

  /**
   * Start a BGP gateway (services/bgp-gateway) as NATS user `bgp`, tracked
   * like the lab's other processes; `env`: its gobgpd target, router id,
   * secrets.
   */
  async startBgpGateway(name: string, env: Record<string, string>): Promise<ManagedProcess> {
    const p = this.spawn(name, main('bgp-gateway'), { ...this.natsUsers.env('bgp'), STRATA_HTTP_PORT: '0', ...this.options.env, ...env });
    await p.ready;
    return p;
  }

  /** Start (or restart) the agent of a hypervisor. */
  async startAgent(h: Hypervisor, env: Record<string, string> = {}): Promise<ManagedProcess> {
    const agent = this.spawn(`agent-${h.id}`, main('agent'), {
      ...this.natsUsers.env(`agent-${h.id}`),
      ...agentEnv(this.prefix, h, this.stateDir, this.options.resyncSeconds ?? 2),
      ...this.options.env,
      ...env,
    });
    h.agent = agent;
    await agent.ready;
    return agent;
  }

  private spawn(name: string, entry: string, env: Record<string, string>): ManagedProcess {
    const p = startProcess(name, [process.execPath, entry], { env: { ...env, [LAB_MARKER_ENV]: this.marker } });
    this.processes.push(p);
    this.spawned.push({ name, entry, env, process: p });
    return p;
  }

  /**
   * Boot a VM for `port` on hypervisor `hostId`: a namespace whose eth0 has
   * the port's MAC, its peer named after the port in the hypervisor (what
   * Nova/libvirt would create; the agent plugs it).
   */
  async addVm(name: string, port: PortView, hostId: string): Promise<Vm> {
    const vm = await Vm.boot(`${this.prefix}vm-${name}`, name, port, this.host(hostId));
    this.vms.set(name, vm);
    return vm;
  }

  /** Live-migrate: the VM's NIC moves to another hypervisor (the port must be rebound by the caller). */
  async moveVm(vm: Vm, toHost: string): Promise<void> {
    await vm.detach();
    await vm.attach(this.host(toHost));
  }

  /**
   * The border's static route for a floating IP to the hypervisor hosting it
   * (null: withdraw it). The fabric's job, done by hand until the BGP gateway.
   */
  async routeFloatingIp(address: string, hostId: string | null): Promise<void> {
    if (!this.external) throw new Error('the lab was started without external: true');
    if (hostId === null) await unrouteAtBorder(this.external, address);
    else await routeAtBorder(this.external, address, this.host(hostId).vtepIp);
  }

  /**
   * Stop every process the lab started (by PID), then everything else started
   * for it: each process inside one of its namespaces or carrying its marker
   * (the agents' dnsmasqs, which outlive an agent on purpose); then delete
   * every namespace with its prefix and the state directory.
   */
  async destroy(): Promise<void> {
    await this.bgp?.stop();
    await this.ipam?.close().catch(() => undefined);
    await Promise.all(this.processes.map((p) => p.stop(5_000).catch(() => undefined)));
    await this.natsUsers?.stop().catch(() => undefined);
    await this.postgres?.stop().catch(() => undefined);
    await deleteAll(this.prefix, this.marker);
    rmSync(this.stateDir, { recursive: true, force: true });
    this.unguard();
  }

  /** Device name the hypervisor gives a port's NIC. */
  static deviceOf(port: PortView): string {
    return portDevice(port.id);
  }
}
