/**
 * A mixed command load through the gRPC API, as tenants' programs make it:
 * each worker repeats a small tenant's life — a network and a subnet, two
 * ports bound to two hypervisors, a security group with a rule, the first
 * port moved into the group and out again (membership changes), a floating
 * IP allocated and released, the second port deleted — every command
 * through the FaultClient (own request id, re-sent on UNAVAILABLE,
 * DEADLINE_EXCEEDED or ABORTED). A command that fails for good ends that
 * round; the worker starts the next. stop() lets each worker finish the
 * command it is in (with its retries) and resolves when all have.
 */
import type { FaultClient } from './client.js';

/** What the load reads of a reply. */
type Named = { id: string };
type PortGroups = { portId: string };

export interface LoadSetup {
  /** Hypervisors ports are bound to (registered by the plane's setup). */
  hosts: readonly string[];
  /** A floating-IP pool's id. */
  floatingPoolId: string;
}

export class Load {
  private stopping = false;
  private readonly workers: Promise<void>[] = [];
  private round = 0;
  /** Commands acknowledged so far (all workers). */
  acknowledged = 0;

  constructor(
    private readonly clients: readonly FaultClient[],
    private readonly setup: LoadSetup,
  ) {}

  start(): this {
    for (const client of this.clients) this.workers.push(this.worker(client));
    return this;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers);
  }

  private async worker(c: FaultClient): Promise<void> {
    while (!this.stopping) {
      try {
        await this.tenantRound(c, this.round++);
      } catch {
        // CommandFailed: in the ledger with its code; the next round starts afresh.
      }
    }
  }

  /** One round; returns early (between commands) once stopping. */
  private async tenantRound(c: FaultClient, n: number): Promise<void> {
    const steps = this.stepsOf(c, n);
    for (const step of steps) {
      if (this.stopping) return;
      await step();
      this.acknowledged++;
    }
  }

  private stepsOf(c: FaultClient, n: number): Array<() => Promise<unknown>> {
    const [h1, h2] = [this.setup.hosts[n % this.setup.hosts.length]!, this.setup.hosts[(n + 1) % this.setup.hosts.length]!];
    let networkId = '';
    let p1 = '';
    let p2 = '';
    let groupId = '';
    let fipId = '';
    return [
      async () => (networkId = (await c.command<Named>('network.create', (s, md, o, cb) => s.networks.CreateNetwork({ name: `load-${n}` }, md, o, cb))).id),
      () => c.command<Named>('subnet.create', (s, md, o, cb) => s.subnets.CreateSubnet({ networkId, name: `load-${n}`, cidr: '10.20.0.0/24' }, md, o, cb)),
      async () => (p1 = (await c.command<Named>('port.create', (s, md, o, cb) => s.ports.CreatePort({ networkId, name: `a-${n}`, hostId: h1 }, md, o, cb))).id),
      async () => (p2 = (await c.command<Named>('port.create', (s, md, o, cb) => s.ports.CreatePort({ networkId, name: `b-${n}`, hostId: h2 }, md, o, cb))).id),
      async () => (groupId = (await c.command<Named>('group.create', (s, md, o, cb) => s.securityGroups.CreateSecurityGroup({ name: `web-${n}` }, md, o, cb))).id),
      () =>
        c.command<Named>('rule.create', (s, md, o, cb) =>
          s.securityGroups.CreateSecurityGroupRule(
            { groupId, direction: 'RULE_DIRECTION_INGRESS', ethertype: 'ETHER_TYPE_IPV4', protocol: 'RULE_PROTOCOL_TCP', portMin: 8000 + (n % 1000) },
            md,
            o,
            cb,
          ),
        ),
      () => c.command<PortGroups>('membership.join', (s, md, o, cb) => s.securityGroups.SetPortSecurityGroups({ portId: p1, groupIds: [groupId] }, md, o, cb), (r) => r.portId),
      async () => (fipId = (await c.command<Named>('fip.create', (s, md, o, cb) => s.floatingIps.CreateFloatingIp({ poolId: this.setup.floatingPoolId }, md, o, cb))).id),
      () => c.command<Named>('fip.delete', (s, md, o, cb) => s.floatingIps.DeleteFloatingIp({ id: fipId }, md, o, cb)),
      () => c.command<PortGroups>('membership.leave', (s, md, o, cb) => s.securityGroups.SetPortSecurityGroups({ portId: p1, groupIds: [] }, md, o, cb), (r) => r.portId),
      () => c.command<Named>('port.delete', (s, md, o, cb) => s.ports.DeletePort({ id: p2 }, md, o, cb)),
    ];
  }
}
