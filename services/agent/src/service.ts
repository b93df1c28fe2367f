/** Wires the agent: host-view watch → agent loop → dataplane → kernel; reports, heartbeats and metrics out. */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Gauge } from 'prom-client';
import { z } from 'zod';
import { agentHeartbeatSubject, agentReportSubject, agentResyncSubject, garpObservationSubject, gatewayMacsSubject } from '@strata/contracts';
import type { ServiceDefinition } from '@strata/runtime';
import { Agent, type ApplyReport } from './agent.js';
import { hostDataplane } from './dataplane/managers.js';
import { inNetns, nodeExec } from './kernel/exec.js';
import { startLinkMonitor } from './kernel/monitor.js';
import { GatewayMacsWatcher } from './observe/gateway-macs-watcher.js';
import { GarpWatcher } from './observe/garp-watcher.js';
import { HealthChecker } from './observe/health.js';
import { OwnerAnnouncer } from './observe/owner-announce.js';
import { HostViewWatcher } from './view/kv-watch.js';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const agentConfig = z.object({
  /** This hypervisor's id: the agent watches `<id>.>` in its bucket `strata-hostview-<id>`. */
  AGENT_HOST_ID: z.string().min(1),
  /**
   * Manage this named network namespace instead of the agent's own (every
   * command runs under `ip netns exec`): the lab's hypervisors are namespaces.
   */
  AGENT_NETNS: z.string().min(1).optional(),
  /** Prefix of routing-domain namespaces; must differ between agents sharing one kernel. */
  AGENT_NETNS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{0,40}$/).default('strata-'),
  /** dnsmasq configs, PID files and leases. */
  AGENT_STATE_DIR: z.string().min(1).default('/var/lib/strata-agent'),
  /** Period of the full resync that repairs drift. */
  AGENT_RESYNC_SECONDS: z.coerce.number().positive().default(30),
  /** Period of the heartbeat on `strata.status.<host>.heartbeat` (the status service marks an agent down after three missed). */
  AGENT_HEARTBEAT_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
  AGENT_DHCP_LEASE_SECONDS: z.coerce.number().int().min(120).default(86_400),
  /** Apply membership changes through a long-lived libnftables worker (python3-nftables) instead of an nft process each. */
  AGENT_NFT_WORKER: bool.default(true),
  /** Plug a VM's tap as soon as it appears (`ip monitor link`) rather than at the next resync. */
  AGENT_LINK_MONITOR: bool.default(true),
});

/**
 * The agent's service name: `agent-<AGENT_HOST_ID>`, or `agent` without a
 * host id (the config check then fails). STRATA_SERVICE_NAME overrides it.
 * The runtime names the NATS connection and the reply inbox after it
 * (`_INBOX_<name>`), and the NATS user `agent-<host>` may subscribe only to
 * `_INBOX_agent-<host>.>` (infra/nats/render-accounts.mjs).
 */
export const agentServiceName = (env: Record<string, string | undefined> = process.env): string => {
  const hostId = env['AGENT_HOST_ID'];
  return hostId ? `agent-${hostId}` : 'agent';
};

/** The agent's software version, in every report: its package's. */
export const AGENT_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export const agentService: ServiceDefinition<typeof agentConfig> = {
  // Read when the service starts, from the process environment (runService's); startService(def, env)
  // callers with another environment pass STRATA_SERVICE_NAME when the name matters (NATS permissions).
  get name(): string {
    return agentServiceName();
  },
  config: agentConfig,
  // Fail static: an agent (re)started while the control plane is down comes up and waits, touching nothing.
  waitForNats: true,
  async start({ nc, config, logger, metrics, readiness }) {
    const hostId = config.AGENT_HOST_ID;
    mkdirSync(config.AGENT_STATE_DIR, { recursive: true });
    const exec = config.AGENT_NETNS ? inNetns(nodeExec, config.AGENT_NETNS) : nodeExec;
    const dataplane = hostDataplane({
      exec,
      nsPrefix: config.AGENT_NETNS_PREFIX,
      stateDir: config.AGENT_STATE_DIR,
      leaseSeconds: config.AGENT_DHCP_LEASE_SECONDS,
      nftWorker: config.AGENT_NFT_WORKER,
      // The link monitor tells the dataplane of every link: passes for view changes plan against its model of the kernel.
      followsLinks: config.AGENT_LINK_MONITOR,
      logger,
    });

    const applies = metrics.counter('strata_agent_applies_total', 'reconciles by result', ['result']);
    const duration = metrics.histogram('strata_agent_apply_duration_seconds', 'read + diff + apply of one reconcile', [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    const fastPath = metrics.counter('strata_agent_member_fast_path_total', 'membership changes applied as set elements only, without a full reconcile');
    const opsApplied = metrics.counter('strata_agent_ops_total', 'kernel operations applied');
    const keptPasses = metrics.counter('strata_agent_kept_passes_total', 'full reconciles planned against the model of the kernel the last pass left, without reading it');
    const objects = new Gauge({ name: 'strata_agent_objects', help: 'desired kernel objects by kind', labelNames: ['kind'], registers: [metrics.registry] });
    const generation = new Gauge({ name: 'strata_agent_generation', help: 'data plane generation', registers: [metrics.registry] });
    // Against hostview's strata_hostview_host_position{host}: how far the kernel is behind the host's view (the alert "a host behind on its view").
    const appliedPosition = new Gauge({
      name: 'strata_agent_applied_position',
      help: "the log position of the host view the kernel reflects (the view's <host>.position.view at the last applied pass)",
      labelNames: ['host'],
      registers: [metrics.registry],
    });
    // Read from the kernel's named counters after every reconcile: a rule's counter starts again at 0 when the rule is re-created.
    const rulePackets = metrics.counter('strata_sg_rule_packets_total', 'packets accepted by a security-group rule (nft named counter)', ['group', 'rule']);
    const ruleBytes = metrics.counter('strata_sg_rule_bytes_total', 'bytes accepted by a security-group rule (nft named counter)', ['group', 'rule']);
    const applied = readiness.flag('dataplane');
    // Fail static (docs/architecture.md): 1 while the agent holds a view that is not live (NATS lost, its bucket gone or
    // held back), so it keeps the kernel as last applied; with the seconds since it stopped being live.
    const failStatic = new Gauge({ name: 'strata_agent_fail_static', help: '1 while the agent keeps the kernel as last applied because its host view is not live', registers: [metrics.registry] });
    new Gauge({
      name: 'strata_agent_view_not_live_seconds',
      help: 'seconds since the host view stopped being live (0 while live)',
      registers: [metrics.registry],
      collect() {
        const since = watcher?.feed().since;
        this.set(since == null ? 0 : (Date.now() - since) / 1000);
      },
    });

    const onApplied = (r: ApplyReport): void => {
      applies.inc({ result: r.ok ? 'ok' : 'failed' });
      duration.observe(r.seconds);
      if (r.members) {
        fastPath.inc();
        opsApplied.inc(r.members.added + r.members.deleted);
        objects.inc({ kind: 'nft_set_element' }, r.members.added - r.members.deleted);
        return;
      }
      if (!r.result) return;
      applied.set(true);
      if (!r.result.read) keptPasses.inc();
      opsApplied.inc(r.result.plan.batches.reduce((n, b) => n + b.ops.length, 0));
      const k = r.result.desired.kernel;
      for (const kind of ['bridge', 'vxlan', 'veth'] as const) {
        objects.set({ kind }, Object.values(k.links).filter((l) => l.kind === kind).length);
      }
      objects.set({ kind: 'namespace' }, Object.keys(k.namespaces).length);
      objects.set({ kind: 'plug' }, Object.keys(k.plugs).length);
      objects.set({ kind: 'fdb' }, Object.keys(k.fdb).length);
      objects.set({ kind: 'neighbour' }, Object.keys(k.neighs).length);
      objects.set({ kind: 'address' }, Object.keys(k.addrs).length);
      objects.set({ kind: 'dhcp' }, Object.keys(r.result.desired.dhcp).length);
      const tables = Object.values(k.nft.tables);
      objects.set({ kind: 'nft_rule' }, tables.reduce((n, t) => n + Object.values(t.chains).reduce((m, c) => m + c.rules.length, 0), 0));
      objects.set({ kind: 'nft_set_element' }, tables.reduce((n, t) => n + Object.values(t.sets).reduce((m, s) => m + s.elements.length, 0), 0));
      // A pass that did not read the counters (a kept one, same rules) leaves the last reading.
      if (r.result.ruleCounters) {
        rulePackets.reset();
        ruleBytes.reset();
        for (const c of r.result.ruleCounters) {
          rulePackets.inc({ group: c.group, rule: c.rule }, c.packets);
          ruleBytes.inc({ group: c.group, rule: c.rule }, c.bytes);
        }
      }
    };

    let watcher: HostViewWatcher | undefined;
    const send = (subject: string, message: unknown): void => void (nc.isClosed() || nc.publish(subject, JSON.stringify(message)));
    const agent = new Agent({
      hostId,
      view: () => watcher?.current() ?? null,
      dataplane,
      resyncMs: config.AGENT_RESYNC_SECONDS * 1000,
      logger,
      onApplied,
      identity: { bootId: randomUUID(), version: AGENT_VERSION, startedAt: new Date().toISOString() },
      onReport: (report) => {
        generation.set(report.generation);
        if (report.appliedPosition !== null) appliedPosition.set({ host: hostId }, report.appliedPosition);
        send(agentReportSubject(hostId), report);
      },
    });
    // Liveness, and the full report whenever the status service asks for it (it started, or it missed one).
    const heartbeat = setInterval(() => send(agentHeartbeatSubject(hostId), agent.heartbeat()), config.AGENT_HEARTBEAT_MS);
    const resync = nc.subscribe(agentResyncSubject(hostId), { callback: (err) => err || send(agentReportSubject(hostId), agent.report()) });
    // Health checks of the service functions whose appliances are on this host (observe/health.ts).
    const health = new HealthChecker({ hostId, exec, nsPrefix: config.AGENT_NETNS_PREFIX, logger, view: () => watcher?.current()?.view ?? null, publish: send });
    // Gratuitous ARPs of local ports' allowed address pairs → IPAM (observe/garp-watcher.ts).
    const garpReports = metrics.counter('strata_agent_garp_reports_total', 'gratuitous ARPs of allowed address pairs reported');
    const garp = new GarpWatcher({
      hostId,
      exec,
      logger,
      publish: (o) => {
        garpReports.inc();
        send(garpObservationSubject(hostId), o);
      },
    });
    // What this gateway host's bridges learned behind its VLAN bindings → IPAM (observe/gateway-macs-watcher.ts).
    const gatewayMacs = new GatewayMacsWatcher({
      hostId,
      exec,
      nsPrefix: config.AGENT_NETNS_PREFIX,
      logger,
      view: () => watcher?.current()?.view ?? null,
      publish: (o) => send(gatewayMacsSubject(hostId), o),
    });
    const announcer = new OwnerAnnouncer({ exec, logger });
    watcher = new HostViewWatcher({
      nc,
      hostId,
      logger,
      onFeed: (feed) => failStatic.set(!feed.live && watcher?.current() != null ? 1 : 0),
      onChange: (whole) => {
        agent.viewChanged(whole);
        health.viewChanged();
        const view = watcher?.current()?.view;
        garp.update(Object.values(view?.ports ?? {}));
        if (view) announcer.update(view);
      },
    });
    // Ready once it has a view; degraded (still serving its VMs with the last view) while that view is not live.
    readiness.register('hostview', () => {
      const feed = watcher?.feed();
      const ok = watcher?.current() != null;
      return feed?.live ? { ok } : { ok, degraded: ok, detail: { reason: feed?.reason ?? null, since: feed?.since == null ? null : new Date(feed.since).toISOString() } };
    });

    const monitor = config.AGENT_LINK_MONITOR ? startLinkMonitor(exec, (name, deleted) => agent.onLink(name, deleted), { onRestart: () => agent.linksLost() }) : undefined;
    agent.start();
    watcher.start();
    gatewayMacs.start();
    logger.info({ hostId, netns: config.AGENT_NETNS ?? '(own)', nsPrefix: config.AGENT_NETNS_PREFIX, stateDir: config.AGENT_STATE_DIR }, 'agent running');

    // Stopping leaves the data plane (and DHCP servers) as they are: VMs keep their network.
    return async () => {
      clearInterval(heartbeat);
      resync.unsubscribe();
      garp.stop();
      gatewayMacs.stop();
      monitor?.stop();
      health.stop();
      await watcher?.stop();
      await agent.stop();
      dataplane.close();
    };
  },
};
