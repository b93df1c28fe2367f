/**
 * The compose lab from nothing: `scripts/lab.sh up` (images, containers, the
 * demo job), the demo's reachability and isolation results (and its tenant
 * driven with the stock `openstack` CLI through Keystone), then down and up
 * again on the same volumes (the event log is replayed, the demo re-run
 * creates nothing new, and every hypervisor's data plane comes back
 * identical), the loss of a NATS node (the event log's leader: the demo
 * passes again and commands are acknowledged with two of the three nodes,
 * and the node rejoins and catches up), then teardown leaving no container, network or volume of this
 * run behind (also on failure). VMs and routing domains are namespaces inside
 * the hypervisor containers and go with them; the test creates none on the host.
 *
 * Each run has its own compose project name, underlay and public subnets and
 * API port, so it cannot collide with a lab someone else has up.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { freePort, waitFor } from '@strata/testing';
import { describeIf, root } from '@strata/testing/suites';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const MINUTES = 60_000;

const project = `strata-smoke-${randomBytes(3).toString('hex')}`;
const third = 2 * randomInt(0, 127); // 198.19.<even>.0/24 underlay, the next /24 for the public side
const env: Record<string, string> = {
  COMPOSE_PROJECT_NAME: project,
  STRATA_LAB_SKIP_SETUP: '1', // scripts/test.sh has just run scripts/setup.sh
  STRATA_LAB_UNDERLAY_PREFIX: `198.19.${third}`,
  STRATA_LAB_PUBLIC_PREFIX: `198.19.${third + 1}`,
};

async function lab(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('bash', ['scripts/lab.sh', ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/lab.sh ${args.join(' ')} failed: ${err.message}\n${(err.stdout ?? '').slice(-6000)}\n${(err.stderr ?? '').slice(-3000)}`);
  }
}

interface DemoResult {
  passed: number;
  failed: number;
  error?: string;
  checks?: { section: string; what: string; ok: boolean; expect: unknown; got: unknown }[];
}

function demoResult(output: string): DemoResult {
  const line = output.split('\n').reverse().find((l) => l.startsWith('DEMO-RESULT '));
  if (!line) throw new Error(`no DEMO-RESULT line in the output:\n${output.slice(-4000)}`);
  return JSON.parse(line.slice('DEMO-RESULT '.length)) as DemoResult;
}

/** How many events the log holds, read with the strata CLI from the host through the published API port. */
async function eventCount(): Promise<number> {
  const { stdout } = await run(process.execPath, [`${ROOT}cli/dist/main.js`, 'events', 'list', '--limit', '1000', '-o', 'json'], {
    env: { ...process.env, STRATA_SERVER: `127.0.0.1:${env['STRATA_LAB_API_PORT']}`, STRATA_TOKEN: 'lab-admin-token', STRATA_PLAINTEXT: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  // What the demo writes. The BGP gateway's observations of the border (routes learned and withdrawn)
  // follow the sessions, and the status service's liveness decisions follow the agents; a down/up
  // restarts both: they are the fabric's and the agents' doing, not the demo's.
  return (JSON.parse(stdout) as { events: Array<{ type: string }> }).events.filter((e) => !/^(bgp\.Route|status\.)/.test(e.type)).length;
}

async function compose(...args: string[]): Promise<string> {
  const { stdout } = await run('docker-compose', ['-f', 'docker-compose.yml', ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** The NATS node leading the event log's stream (its server_name is the compose service's name), from a node's monitoring endpoint. */
async function eventLogLeader(via: string): Promise<string> {
  const jsz = JSON.parse(await compose('exec', '-T', via, 'busybox', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8222/jsz?accounts=true&streams=true')) as {
    account_details?: Array<{ stream_detail?: Array<{ name: string; cluster?: { leader?: string } }> }>;
  };
  const stream = (jsz.account_details ?? []).flatMap((a) => a.stream_detail ?? []).find((s) => s.name === 'STRATA_EVENTS');
  if (!stream?.cluster?.leader) throw new Error(`no leader for STRATA_EVENTS in ${via}'s /jsz`);
  return stream.cluster.leader;
}

/** A compose service's container health (healthy, starting, unhealthy). */
async function health(service: string): Promise<string> {
  const id = (await compose('ps', '-q', service)).trim();
  return (await run('docker', ['inspect', '-f', '{{.State.Health.Status}}', id])).stdout.trim();
}

/** Containers, networks and volumes the engine still has for this run's project. */
function leftovers(): string[] {
  const label = `label=com.docker.compose.project=${project}`;
  return [
    ['ps', '-aq', '--filter', label],
    ['network', 'ls', '-q', '--filter', label],
    ['volume', 'ls', '-q', '--filter', label],
  ].flatMap((args) => spawnSync('docker', args, { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.trim() !== '').map((id) => `${args[0]} ${id}`));
}

// Last resort when the runner dies without teardown: the lab must not outlive the run.
const removeLab = (): void => {
  spawnSync('bash', ['scripts/lab.sh', 'down', '--volumes'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
};
process.on('exit', removeLab);

describeIf(root())('the compose lab', () => {
  let firstDataplane = '';
  let firstEvents = 0;

  afterAll(async () => {
    await lab('down', '--volumes').catch((e: Error) => console.error(e.message));
    process.off('exit', removeLab);
    // Namespaces (VMs, routing domains) live in the hypervisor containers: no container, no namespace.
    expect(leftovers()).toEqual([]);
  }, 5 * MINUTES);

  it('comes up from nothing and the demo passes: reachability, overlapping tenants, isolation, security groups, floating IP via BGP, PNAT, a firewall chained between two tiers, a tenant driven with the stock openstack CLI', async () => {
    env['STRATA_LAB_API_PORT'] = String(await freePort());
    env['STRATA_LAB_PROMETHEUS_PORT'] = String(await freePort());
    const result = demoResult(await lab('up'));
    expect(result.error).toBeUndefined();
    const failed = (result.checks ?? []).filter((c) => !c.ok);
    expect(failed).toEqual([]);
    const sections = new Set(result.checks!.map((c) => c.section));
    for (const s of ['realisation', 'updates', 'reachability', 'overlap', 'isolation', 'security groups', 'nat', 'service chaining', 'audit', 'openstack']) expect(sections).toContain(s);
    // The OpenStack section's own checks: both ports ACTIVE per `openstack port show`, the ping, the floating IP,
    // the strata CLI with a Keystone token.
    expect(result.checks!.filter((c) => c.section === 'openstack' && c.ok).length).toBe(5);
    expect(result.passed).toBeGreaterThanOrEqual(19);
    firstDataplane = await lab('dataplane');
    expect(firstDataplane).toContain('vxlan id');
    firstEvents = await eventCount();
  }, 40 * MINUTES);

  it("Prometheus scrapes every service instance and every agent, with Strata's four alert rules loaded and none firing", async () => {
    const prometheus = async <T>(path: string): Promise<T> => {
      const res = await fetch(`http://127.0.0.1:${env['STRATA_LAB_PROMETHEUS_PORT']}${path}`);
      if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
      return ((await res.json()) as { data: T }).data;
    };
    type Target = { labels: Record<string, string>; health: string; lastError: string };
    // Scraped every 5 s: wait until each target has been scraped successfully.
    const targets = await waitFor(
      async () => {
        const { activeTargets } = await prometheus<{ activeTargets: Target[] }>('/api/v1/targets');
        const down = activeTargets.filter((t) => t.health !== 'up');
        if (down.length > 0) throw new Error(down.map((t) => `${t.labels['instance']}: ${t.health} ${t.lastError}`).join('; '));
        return activeTargets;
      },
      { timeoutMs: 60_000, intervalMs: 2_000, message: 'every Prometheus target up' },
    );
    const count = (job: string, component?: string): number =>
      targets.filter((t) => t.labels['job'] === job && (component === undefined || t.labels['component'] === component)).length;
    expect(targets.filter((t) => t.labels['job'] === 'strata-agents').map((t) => t.labels['host']).sort()).toEqual(['hv1', 'hv2', 'hv3']);
    expect(count('strata-services', 'ipam')).toBe(2);
    expect(count('strata-services', 'pg-projector')).toBe(2);
    for (const c of ['secgroup', 'hostview', 'nat', 'chaining', 'status', 'audit', 'api', 'neutron', 'bgp', 'kafka-exporter']) expect(count('strata-services', c), c).toBe(1);
    const { groups } = await prometheus<{ groups: Array<{ rules: Array<{ name: string; type: string }> }> }>('/api/v1/rules');
    expect(groups.flatMap((g) => g.rules.filter((r) => r.type === 'alerting').map((r) => r.name)).sort()).toEqual([
      'StrataAgentDown',
      'StrataEventQuarantined',
      'StrataHostBehindOnView',
      'StrataProjectionStopped',
    ]);
    const { alerts } = await prometheus<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>('/api/v1/alerts');
    expect(alerts.filter((a) => a.state === 'firing')).toEqual([]);
  }, 5 * MINUTES);

  // Not yet survived in the compose lab (issue 18 is open on it): with the event log's leader node killed, the
  // demo's `strata wait port` gets UNAVAILABLE from the status service until it times out. The services on the
  // cluster harness survive it (test/nats/cluster-failover, test/fault/nats-cluster); the lab's difference is not
  // yet found. Opt in with STRATA_LAB_SMOKE_NODE_LOSS=1 to run it.
  it.runIf(process.env['STRATA_LAB_SMOKE_NODE_LOSS'] === '1')('loses one NATS node (the event log\'s leader, killed): the demo passes again, a new command is acknowledged, and the node rejoins', async () => {
    const leader = await eventLogLeader('nats-1');
    expect(['nats-1', 'nats-2', 'nats-3']).toContain(leader);
    // SIGKILL, a node lost: a graceful stop (SIGTERM) of the leader is not yet survived (docs/architecture.md, "Clustered NATS").
    await compose('kill', leader);
    try {
      const result = demoResult(await lab('demo').catch(async (err: Error) => {
        // What the services said about the loss: the demo's error alone does not say which one did not come back.
        throw new Error(`${err.message}\n${await compose('logs', '--no-color', '--tail', '40', 'hostview', 'audit', 'status', 'api').catch((e: Error) => e.message)}`);
      }));
      expect(result.error).toBeUndefined();
      expect((result.checks ?? []).filter((c) => !c.ok)).toEqual([]);
      // A write with two of the three nodes: the stream's new leader has the quorum.
      const { stdout } = await run(process.execPath, [`${ROOT}cli/dist/main.js`, 'network', 'create', '--name', 'written-without-one-nats-node', '-o', 'json'], {
        env: { ...process.env, STRATA_SERVER: `127.0.0.1:${env['STRATA_LAB_API_PORT']}`, STRATA_TOKEN: 'lab-tenant-b-token', STRATA_PLAINTEXT: '1' },
      });
      expect((JSON.parse(stdout) as { name: string }).name).toBe('written-without-one-nats-node');
      const survivor = ['nats-1', 'nats-2', 'nats-3'].find((n) => n !== leader)!;
      expect(await eventLogLeader(survivor)).not.toBe(leader);
    } finally {
      await compose('start', leader);
    }
    // Healthy again = provisioned and /healthz: its JetStream is current with the cluster (it caught up).
    const deadline = Date.now() + 3 * MINUTES;
    while ((await health(leader)) !== 'healthy') {
      if (Date.now() > deadline) throw new Error(`${leader} did not rejoin within 3 minutes`);
      await new Promise((r) => setTimeout(r, 2_000));
    }
    // The down/up below compares with the log as it is now.
    firstEvents = await eventCount();
  }, 15 * MINUTES);

  it('down and up again: the event log is kept, replayed, and the data plane comes back identical', async () => {
    await lab('down');
    expect(spawnSync('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`], { encoding: 'utf8' }).stdout).toContain('nats-data');
    const result = demoResult(await lab('up'));
    expect((result.checks ?? []).filter((c) => !c.ok)).toEqual([]);
    // The re-run demo asked for everything again with the same request ids (and found the openstack tenant's
    // resources by name, in the same Keystone project: its database is on a volume too): nothing new was written.
    expect(await eventCount()).toBe(firstEvents);
    // The demo's checks pass once packets flow; give the last entries a few agent passes to settle.
    let dataplane = '';
    for (let i = 0; i < 10 && dataplane !== firstDataplane; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 3_000));
      dataplane = await lab('dataplane');
    }
    expect(dataplane).toBe(firstDataplane);
  }, 20 * MINUTES);
});
