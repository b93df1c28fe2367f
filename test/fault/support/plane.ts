/**
 * The control plane a fault test runs against: startControlPlane (nats-server
 * with the production users, two IPAM instances, secgroup, nat, chaining,
 * status, audit, hostview and the gRPC API as real processes) on free ports,
 * four hypervisors provisioned and registered — two for the load's ports,
 * two in network namespaces with an agent each and probe VMs on them
 * (data-plane.ts) —, a floating-IP pool, and
 * the connections the checks read through (the operator's, the api user's).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { JetStreamEventStore } from '@strata/eventlog';
import { NO_AGENTS_STATUS_ENV, startControlPlane, type ControlPlane, type ManagedProcess } from '@strata/lab';
import { CommandSigner } from '@strata/runtime';
import { freePort } from '@strata/testing';
import { FaultClient } from './client.js';
import { Ledger } from './ledger.js';
import { ServiceDigests } from './checks.js';
import { DataPlane, destroyHosts, type Hosts } from './data-plane.js';
import type { LoadSetup } from './load.js';

export const TENANT = 'tenant-f';
/**
 * The hypervisors the load binds its ports to: registered and provisioned,
 * no agent (their views are checked against a derivation). The load leaves
 * a network and a port behind per round, hundreds per file: agents applying
 * that (a routing-domain namespace per network) fell minutes behind on two
 * shared cores, so the agents run on hosts of their own (AGENT_HOSTS).
 */
export const LOAD_HOSTS = ['hv-f1', 'hv-f2'] as const;
/** The hypervisors with a real agent each, in network namespaces (data-plane.ts): the probe VMs' hosts. */
export const AGENT_HOSTS = ['hv1', 'hv2'] as const;
/** Every hypervisor, whose views the checks compare with a derivation. */
export const HOSTS = [...LOAD_HOSTS, ...AGENT_HOSTS] as const;

export interface FaultPlane {
  cp: ControlPlane;
  setup: LoadSetup;
  admin: NatsConnection;
  store: JetStreamEventStore;
  digests: ServiceDigests;
  /** The hypervisors' agents and the probe VMs: the packet checks. */
  packets: DataPlane;
  /** A client of the API as the tenant, recording into `ledger`. */
  client(ledger: Ledger): FaultClient;
  /** The running process of a service (e.g. `ipam-1`, `api`). */
  process(name: string): ManagedProcess;
  destroy(): Promise<void>;
}

export interface FaultPlaneOptions {
  /** Run on a three-node NATS cluster with three replicas of every stream and bucket (the production shape). */
  cluster?: boolean;
}

export async function startFaultPlane(options: FaultPlaneOptions = {}): Promise<FaultPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-fault-'));
  const connections: NatsConnection[] = [];
  const clients: FaultClient[] = [];
  let cp: ControlPlane | undefined;
  let hosts: Hosts | undefined;
  let packets: DataPlane | undefined;
  const replicas = options.cluster ? 3 : 1;
  const destroy = async (): Promise<void> => {
    for (const c of clients) c.close();
    for (const nc of connections) await nc.close().catch(() => undefined);
    if (packets) await packets.destroy();
    else if (hosts) await destroyHosts(hosts);
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    hosts = await DataPlane.underlay(AGENT_HOSTS.length);
    cp = await startControlPlane(dir, [TENANT], () => undefined, {
      ...(options.cluster ? { natsCluster: 3, natsReplicas: replicas } : { natsPort: await freePort() }),
      apiAddr: `127.0.0.1:${await freePort()}`,
      agents: HOSTS,
      hostview: true,
      // The status service's own clock must not mark an agent down while its NATS server is away: liveness has its own tests.
      statusEnv: NO_AGENTS_STATUS_ENV,
    });
    const plane = cp;
    const connectAs = async (user: string): Promise<NatsConnection> => {
      const nc = await connect({ servers: plane.natsUrl.split(','), user, pass: plane.passwords[user]!, inboxPrefix: `_INBOX_${user}`, name: `fault-${user}`, maxReconnectAttempts: -1 });
      connections.push(nc);
      return nc;
    };
    const admin = await connectAs('admin');
    // Opening the log reconciles its configuration with the opener's: the same replica count as the
    // services', or the operator's connection would scale the stream down (deleting every consumer).
    const store = await JetStreamEventStore.open(admin, { replicas });
    const api = await connectAs('api');
    const signer = new CommandSigner(plane.commandKeys.signingKey);
    const digests = new ServiceDigests(api, store, signer);
    const client = (ledger: Ledger, token = plane.tokens[TENANT]!): FaultClient => {
      const c = new FaultClient(plane.apiAddr, token, ledger);
      clients.push(c);
      return c;
    };

    // The operator's setup, outside the measured ledgers.
    const op = client(new Ledger(), plane.tokens['admin']!);
    const hostPool = await op.command<{ id: string }>('pool.create', (s, md, o, cb) => s.pools.CreatePool({ name: 'hosts', cidr: '198.51.100.0/24', purpose: 'POOL_PURPOSE_HOST_IP' }, md, o, cb));
    const underlay = [...LOAD_HOSTS.map((id, i) => ({ id, vtepIp: `198.18.0.${i + 1}` })), ...hosts.hosts];
    for (const h of underlay) {
      await op.command<{ id: string }>('hypervisor.register', (s, md, o, cb) => s.hypervisors.RegisterHypervisor({ id: h.id, vtepIp: h.vtepIp, hostPoolId: hostPool.id }, md, o, cb));
    }
    const fipPool = await op.command<{ id: string }>('pool.create', (s, md, o, cb) => s.pools.CreatePool({ name: 'public', cidr: '203.0.113.0/24', purpose: 'POOL_PURPOSE_FLOATING_IP' }, md, o, cb));
    packets = await DataPlane.start(hosts, plane, api, signer, TENANT, dir);

    return {
      cp: plane,
      setup: { hosts: LOAD_HOSTS, floatingPoolId: fipPool.id },
      admin,
      store,
      digests,
      packets,
      client,
      process(name) {
        const p = plane.processes.find((x) => x.name === name);
        if (!p) throw new Error(`no process ${name} (have ${plane.processes.map((x) => x.name).join(', ')})`);
        return p;
      },
      destroy,
    };
  } catch (err) {
    // What the services said is the diagnosis of a plane that did not come up.
    for (const p of cp?.processes ?? []) console.error(`--- ${p.name} ---\n${p.output().slice(-3000)}`);
    await destroy();
    throw err;
  }
}
