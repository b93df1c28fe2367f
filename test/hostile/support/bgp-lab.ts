/**
 * The BGP lab of the hostile tier: the control plane as operators run it
 * (nats-server with the production users, IPAM, the gRPC API with tenant
 * tokens: `startControlPlane`), two gateway instances as the NATS user `bgp`,
 * each driving its own gobgpd, an FRR ToR (`BgpFabric`), and the `strata`
 * CLI for every change, so tenants act only through the API with their own
 * token.
 *
 * The cloud it sets up: hypervisors hv1 (198.18.0.11) and hv2 (198.18.0.12);
 * the gateways (AS 65000) peer with the ToR; peer group `appliances`
 * (198.19.0.0/16, AS 65100, secret ref `appliances`); the operator's routed
 * address space (`routed` pools) 198.19.0.0/16 and 2001:db8:600::/48;
 * tenant-a owns a routed network with the appliance subnets 198.19.1.0/24
 * and 198.19.2.0/24, and the application prefixes come from 198.51.100.128/26.
 * `appendIpam` writes IPAM events straight into the log as the `ipam` user:
 * what a log written before a rule (or by a bug) may hold.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { run } from '@strata/cli';
import { ipamEvents, networkAggregate } from '@strata/contracts';
import { aggregateSubject, JetStreamEventStore } from '@strata/eventlog';
import { formatAddress, parsePrefix } from '@strata/netaddr';
import { APPLIANCE_AS, BgpFabric, GATEWAY_AS, GW, kernelRoute, NO_AGENTS_STATUS_ENV, sh, startControlPlane, TOR, TOR_AS, UNDERLAY6, type ControlPlane, type Frr, type ManagedProcess } from '@strata/lab';
import { freePort, waitFor } from '@strata/testing';
import { applianceKey } from '../../../services/bgp-gateway/src/app/secrets.js';
import { startGateway } from '../../../services/bgp-gateway/src/test/support.js';

export const GROUP_SECRET = 'group-secret-of-all-appliances';
export const WAIT = { timeoutMs: 90_000, intervalMs: 200 };
export const HV = { hv1: '198.18.0.11', hv2: '198.18.0.12' } as const;
/** The operator's routed address space: every routed subnet the API accepts lies in one of these. */
export const ROUTED_POOLS = ['198.19.0.0/16', '2001:db8:600::/48'] as const;

export interface Ids {
  appNetwork: string;
  appSubnet1: string;
  appSubnet2: string;
  appPool: string;
}

export class BgpHostileLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'strata-bgp-hostile-'));
  readonly fabric = new BgpFabric();
  cp!: ControlPlane;
  readonly gateways: ManagedProcess[] = [];
  ids!: Ids;

  async start(tenants = ['tenant-a', 'tenant-b']): Promise<void> {
    this.cp = await startControlPlane(join(this.dir, 'cp'), tenants, () => undefined, { natsPort: await freePort(), apiAddr: `127.0.0.1:${await freePort()}`, statusEnv: NO_AGENTS_STATUS_ENV });
    await this.fabric.start();
    await Promise.all([this.startGateway(1), this.startGateway(2)]);
    await this.admin(['bgp', 'settings', 'set', '--local-as', String(GATEWAY_AS), '--router-id', GW[0]]);
    await this.admin(['bgp', 'peer', 'create', '--name', 'tor', '--address', TOR, '--remote-as', String(TOR_AS)]);
    const hostPool = await this.admin<{ id: string }>(['pool', 'create', '--name', 'h-ip', '--cidr', '203.0.113.128/26', '--purpose', 'host-ip']);
    for (const [id, vtep] of Object.entries(HV)) await this.admin(['hypervisor', 'register', id, '--vtep-ip', vtep, '--host-pool', hostPool.id]);
    await this.admin(['bgp', 'peergroup', 'create', '--name', 'appliances', '--listen-range', '198.19.0.0/16', '--remote-as', String(APPLIANCE_AS), '--password-ref', 'appliances', '--max-prefixes', '4']);
    const appPool = await this.admin<{ id: string }>(['pool', 'create', '--name', 'app-prefixes', '--cidr', '198.51.100.128/26', '--purpose', 'application-prefix']);
    for (const cidr of ROUTED_POOLS) await this.admin(['pool', 'create', '--name', `routed-${cidr}`, '--cidr', cidr, '--purpose', 'routed']);
    const net = await this.as<{ id: string }>('tenant-a', ['network', 'create', '--name', 'appliances', '--routed']);
    const s1 = await this.as<{ id: string }>('tenant-a', ['subnet', 'create', '--network', net.id, '--cidr', '198.19.1.0/24']);
    const s2 = await this.as<{ id: string }>('tenant-a', ['subnet', 'create', '--network', net.id, '--cidr', '198.19.2.0/24']);
    this.ids = { appNetwork: net.id, appSubnet1: s1.id, appSubnet2: s2.id, appPool: appPool.id };
    await waitFor(async () => (await this.fabric.tor.sessionState(GW[0])) === 'Established' && (await this.fabric.tor.sessionState(GW[1])) === 'Established', {
      ...WAIT,
      message: 'ToR sessions with both gateways',
    });
  }

  async startGateway(i: number): Promise<ManagedProcess> {
    const p = startGateway(this.cp.natsUrl, `bgp-gw${i}`, {
      NATS_USER: 'bgp',
      NATS_PASSWORD: this.cp.passwords['bgp']!,
      STRATA_COMMAND_VERIFY_KEYS: this.cp.commandKeys.verifyKey,
      GOBGP_TARGET: `unix://${this.fabric.socket(i)}`,
      BGP_PASSWORD_APPLIANCES: GROUP_SECRET,
      BGP_ROUTER_ID: GW[i - 1]!,
      BGP_IPV6_NEXTHOP_PREFIX: UNDERLAY6,
    });
    await p.ready;
    this.gateways[i - 1] = p;
    return p;
  }

  /** `strata <argv> -o json` with a tenant's token (or `admin`). */
  async as<T = unknown>(who: string, argv: string[]): Promise<T> {
    let out = '';
    let err = '';
    const code = await run([...argv, '-o', 'json'], {
      io: { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) },
      env: { STRATA_SERVER: this.cp.apiAddr, STRATA_TOKEN: this.cp.tokens[who]!, ...this.cp.cliEnv },
    });
    if (code !== 0) throw new Error(`strata ${argv.join(' ')} (as ${who}) exited ${code}: ${err.trim()}`);
    return (out.trim() === '' ? undefined : JSON.parse(out)) as T;
  }

  admin<T = unknown>(argv: string[]): Promise<T> {
    return this.as<T>('admin', argv);
  }

  /** An application prefix of tenant-a assigned to `device`. */
  async assignPrefix(prefix: string, device: string, tenant = 'tenant-a'): Promise<string> {
    const ap = await this.admin<{ id: string }>(['appprefix', 'create', '--pool', this.ids.appPool, '--prefix', prefix, '--tenant', tenant]);
    await this.admin(['bgp', 'appliance', 'assign', '--prefix', ap.id, '--device', device]);
    return ap.id;
  }

  /** A tenant-a appliance: its port (bound to `host`) and an FRR speaking with its own key. */
  async appliance(role: string, device: string, address: string, host: keyof typeof HV, prefixes: string[]): Promise<{ frr: Frr; portId: string }> {
    const subnet = address.startsWith('198.19.1.') ? this.ids.appSubnet1 : this.ids.appSubnet2;
    const port = await this.as<{ id: string }>('tenant-a', ['port', 'create', '--network', this.ids.appNetwork, '--name', device, '--host', host, '--device', device, '--fixed-ip', `subnet=${subnet},ip=${address}`]);
    const frr = await this.fabric.appliance(role, address, Number(address.split('.')[2]), applianceKey(GROUP_SECRET, 'tenant-a', device), prefixes);
    return { frr, portId: port.id };
  }

  /**
   * A subnet written straight into a network's aggregate as the `ipam` user, past IPAM's checks:
   * what a log from before the routed address space (or a bug) may hold. Returns the subnet id.
   */
  async appendSubnet(tenant: string, networkId: string, cidr: string): Promise<string> {
    const nc = await connect({ servers: this.cp.natsUrl, user: 'ipam', pass: this.cp.passwords['ipam']!, inboxPrefix: '_INBOX_ipam' });
    let subnetId: string;
    try {
      const store = await JetStreamEventStore.open(nc);
      const aggregate = networkAggregate(networkId);
      const version = await store.lastSeq(aggregateSubject(aggregate));
      subnetId = randomUUID();
      // Ports name their fixed IPs, so the allocation pool only has to be well-formed: the subnet's 10th to 200th address.
      const { version: ipVersion, network } = parsePrefix(cidr);
      const at = (n: bigint): string => formatAddress({ version: ipVersion, value: network + n });
      const data = { subnetId, name: 'old', ipVersion, cidr, gatewayIp: null, allocationPools: [{ start: at(10n), end: at(200n) }], enableDhcp: false };
      const encoded = ipamEvents.encode('ipam.SubnetCreated', data);
      const id = randomUUID();
      await store.append(
        aggregate,
        { id, type: 'ipam.SubnetCreated', version: encoded.version, aggregate, data: encoded.data, tenant, actor: 'ipam', occurredAt: new Date().toISOString(), correlationId: id, causationId: null },
        { expectedVersion: version === 0 ? 'none' : version },
      );
    } finally {
      await nc.close();
    }
    // Both IPAM instances must have folded it before a port may name it: the tenant sees it through each.
    await waitFor(async () => (await Promise.all([1, 2, 3, 4].map(() => this.as(tenant, ['subnet', 'show', subnetId]).then(() => true, () => false)))).every(Boolean), {
      ...WAIT,
      message: `appended subnet ${cidr} visible`,
    });
    return subnetId;
  }

  /** Routes of the ToR's kernel for a prefix ('' when absent). */
  torKernel(prefix: string): Promise<string> {
    return kernelRoute(this.fabric.ns('tor'), prefix);
  }

  /** IPv6 routes of the ToR's kernel for a prefix ('' when absent). */
  async torKernel6(prefix: string): Promise<string> {
    return (await sh(['ip', '-n', this.fabric.ns('tor'), '-6', 'route', 'show', prefix])).trim();
  }

  /** The ToR's IPv6 unicast BGP table: prefix → the next hops of each path (one path per gateway). */
  async torRib6(): Promise<Record<string, string[][]>> {
    const r = await this.fabric.tor.json<{ routes?: Record<string, { nexthops: { ip: string }[] }[]> }>('show bgp ipv6 unicast json');
    return Object.fromEntries(Object.entries(r.routes ?? {}).map(([p, paths]) => [p, paths.map((x) => x.nexthops.map((n) => n.ip))]));
  }

  /**
   * Has every gateway logged the import policy's refusal of `prefix` from `peer` with `reason`?
   * Refusals are not written to the log (an appliance's noise would grow it for ever): each
   * instance counts and logs what its own sessions refuse.
   */
  refusalLogged(peer: string, prefix: string, reason: string): boolean {
    const line = new RegExp(`"peer":"${peer.replaceAll('.', '\\.')}","prefix":"${prefix.replaceAll('.', '\\.')}","reason":"${reason}".*appliance route rejected`);
    return this.gateways.every((g) => line.test(g.output()));
  }

  async routes(): Promise<{ peer: string; prefix: string; status: string; reason: string | null; deviceId: string | null }[]> {
    return (await this.admin<{ items: { peer: string; prefix: string; status: string; reason: string | null; deviceId: string | null }[] }>(['bgp', 'route', 'list'])).items;
  }

  async stop(): Promise<void> {
    for (const g of this.gateways) await g?.stop().catch(() => undefined);
    await this.fabric.stop().catch(() => undefined);
    await this.cp?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
