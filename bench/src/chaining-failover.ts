/**
 * Appliance failover through a service chain: an active-standby pair of
 * firewall VMs running keepalived (VRRP, advert_int 1 s, nopreempt) shares
 * a virtual IP; the chain steers web → app tcp through the active one.
 * Each trial kills the active appliance (its NIC goes down and its
 * keepalived is SIGKILLed: a dead VM) and measures, on one clock:
 *
 *   kill → the standby's first gratuitous ARP    VRRP's own detection (3 × advert_int + skew): the baseline
 *   GARP → every source host steers to it        Strata: agent → IPAM owner → chaining decision → hostview → agents
 *   kill → first successful new connection       what a client sees (a connect loop, one attempt every 50 ms)
 *
 * Two source hosts (hv1 and hv3) are watched; the killed appliance comes
 * back as VRRP backup before the next trial, so trials alternate roles.
 * No health checks: the redirect moves only by the standby's GARP.
 *
 *   npm run -s -w @strata/bench chaining-failover            (TRIALS=20)
 *   QUICK=1 npm run -s -w @strata/bench chaining-failover    (TRIALS=3; under 2 minutes)
 *
 * Last line: kill → first successful new connection ÷ kill → the standby's
 * first GARP (VRRP's own detection, the baseline: no redirect can start
 * before it), median of per-trial ratios; 1 would mean Strata's redirect
 * adds nothing a client sees.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionGroupAggregate, networkAggregate } from '@strata/contracts';
import { aggregateSubject, JetStreamEventStore } from '@strata/eventlog';
import { sh, type Vm } from '@strata/lab';
import { QUICK, intEnv, log, printRatio } from './support/common.js';
import { appliedLines, pct, median, runHeader, sleep, startInNs, tenantNet, uptime, vmOn, withLab, type NsProcess, type TenantNet } from './support/overlay.js';

const TRIALS = intEnv('TRIALS', QUICK ? 3 : 20, 1, 200);
const APP_PORT = 9000;
const VIP = '10.50.2.100';

const SERVER = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", ${APP_PORT})); s.listen(1024)
print("listening", flush=True)
while True:
    c, _ = s.accept(); c.close()
`;

/** Connect every 50 ms (0.2 s timeout); one line per attempt: `ok|fail <epoch ms>`. */
const CLIENT = (ip: string) => `
import socket, time, sys
while True:
    t = time.time()
    try:
        socket.create_connection(("${ip}", ${APP_PORT}), timeout=0.2).close(); ok = "ok"
    except OSError:
        ok = "fail"
    print(ok, int(t * 1000), flush=True)
    time.sleep(max(0, 0.05 - (time.time() - t)))
`;

interface Trial {
  killedAt: number;
  garpAt: number;
  garpMs: number;
  redirectMs: number;
  connectMs: number;
  /** From the log's stored times: GARP → IPAM's owner event, owner event → chaining's decision, decision → both sources steer. */
  ownerMs?: number;
  decisionMs?: number;
  appliedMs?: number;
  /** hv1's agent passes that ended between the GARP and its redirect: how many, and their durations (ms). */
  passes?: number[];
}

async function main(): Promise<void> {
  runHeader('chaining-failover', { TRIALS, advert_int: 1, health_checks: 'none', QUICK: QUICK ? 1 : 0 });
  const trials: Trial[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-vrrp-'));
  try {
    await withLab({ hypervisors: 3, chaining: true, resyncSeconds: 60 }, async (lab) => {
      const web = await tenantNet(lab, 'bench-fo', 'web', '10.50.0.0/24');
      const who = web.who;
      const app: TenantNet = { ...(await tenantNet(lab, 'bench-fo', 'app', '10.50.1.0/24')), who };
      const svc: TenantNet = { ...(await tenantNet(lab, 'bench-fo', 'appliances', '10.50.2.0/24')), who };
      const router = await lab.ipam.command('router.create', { name: 'r' }, who);
      for (const t of [web, app, svc]) await lab.ipam.command('router.addInterface', { id: router.id, subnetId: t.subnet.id }, who);
      const src = await lab.secgroup.command('group.create', { name: 'src', description: 'failover bench' }, who);
      // The sources may send anything (a group without an egress rule would drop their traffic).
      await lab.secgroup.command('rule.create', { groupId: src.id, direction: 'egress', ethertype: 'IPv4', protocol: 'any' }, who);
      const sources = [await vmOn(lab, web, 'w1', 'hv1'), await vmOn(lab, web, 'w3', 'hv3')];
      const b = await vmOn(lab, app, 'b', 'hv3');
      for (const v of sources) await lab.secgroup.command('port.setGroups', { portId: v.port.id, groupIds: [src.id] }, who);
      await lab.secgroup.command('port.setGroups', { portId: b.port.id, groupIds: [] }, who);
      const pair: Vm[] = [];
      for (const [name, host] of [['fwA', 'hv2'], ['fwB', 'hv3']] as const) {
        const port = await lab.ipam.command('port.create', { networkId: svc.net.id, name, hostId: host, allowedAddressPairs: [{ ipAddress: VIP }] }, who);
        const v = await lab.addVm(name, port, host);
        await v.configureStatic({ [svc.subnet.id]: { prefixLength: 24, gatewayIp: svc.subnet.gatewayIp, mtu: svc.net.mtu } });
        await lab.secgroup.command('port.setGroups', { portId: port.id, groupIds: [] }, who);
        await lab.secgroup.command('port.setSecurity', { portId: port.id, enabled: false }, who);
        for (const s of ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0']) await sh(['ip', 'netns', 'exec', v.ns.name, 'sysctl', '-qw', s]);
        pair.push(v);
      }
      const chaining = lab.chaining!;
      const fns = [];
      for (const v of pair) fns.push((await chaining.command('function.create', { name: v.name, ingressPortId: v.port.id, virtualIp: VIP }, who)).id);
      const group = await chaining.command('group.create', { name: 'pair', functionIds: fns }, who);
      const classifier = await chaining.command('classifier.create', { name: 'to-app', protocol: 'tcp', source: { groupId: src.id }, destination: { cidr: app.subnet.cidr } }, who);
      await chaining.command('chain.create', { name: 'fo', routerId: router.id, groupIds: [group.id], classifierIds: [classifier.id] }, who);

      const vrrp = new Map<string, NsProcess>();
      const startVrrp = (v: Vm, priority: number) => {
        const conf = join(dir, `${v.name}.conf`);
        writeFileSync(conf, `global_defs { router_id ${v.name} }\nvrrp_instance V { state BACKUP\n nopreempt\n interface eth0\n virtual_router_id 53\n priority ${priority}\n advert_int 1\n virtual_ipaddress { ${VIP}/24 }\n}\n`);
        vrrp.set(v.name, startInNs(v.ns.name, ['keepalived', '-n', '-l', '-G', '-P', '-f', conf, '-p', join(dir, `${v.name}.pid`), '-r', join(dir, `${v.name}.vrrp.pid`)]));
      };
      const killVrrp = async (v: Vm) => {
        for (const f of [`${v.name}.vrrp.pid`, `${v.name}.pid`]) {
          try {
            process.kill(Number(readFileSync(join(dir, f), 'utf8')), 'SIGKILL');
          } catch {
            /* gone already */
          }
        }
        // The daemon itself, by its handle, whatever its pid files say.
        await vrrp.get(v.name)?.stop(1000);
      };
      const active = async () => (await chaining.query('group.get', { id: group.id }, who)).activeFunctionId;

      // Which routing tables point at which appliance, on each source host's router namespace.
      const domainNs = (h: string) => `${lab.prefix}${h}-d${router.id.replaceAll('-', '').slice(0, 12)}`;
      const marksOf = async (h: string, ip: string): Promise<string[]> => {
        const out = await sh(['ip', 'netns', 'exec', domainNs(h), 'ip', '-4', '-j', 'route', 'show', 'table', 'all', 'proto', '83']).catch(() => '[]');
        const routes = JSON.parse(out || '[]') as { gateway?: string; table?: string }[];
        return routes.filter((r) => r.gateway === ip && r.table !== undefined).map((r) => `0x${Number(r.table).toString(16)}`);
      };
      /** The source host steers new flows to `ip` and no longer to `other`. */
      const steersTo = async (h: string, ip: string, other: string): Promise<boolean> => {
        const text = await sh(['ip', 'netns', 'exec', domainNs(h), 'nft', 'list', 'chain', 'inet', 'strata', 'pre']).catch(() => '');
        const [to, from] = [await marksOf(h, ip), await marksOf(h, other)];
        return to.some((m) => text.includes(m)) && !from.some((m) => text.includes(m));
      };

      const server = startInNs(b.ns.name, ['python3', '-c', SERVER]);
      await server.waitFor(/listening/, 10_000);
      startVrrp(pair[0]!, 150);
      startVrrp(pair[1]!, 100);
      try {
        for (let i = 0; (await active()) !== fns[0]; i++) {
          if (i > 240) throw new Error(`fwA never became active (active: ${await active()})`);
          await sleep(250);
        }
        log('fwA (VRRP master) is the active member');
        for (let trial = 0; trial < TRIALS; trial++) {
          const m = trial % 2;
          const [master, standby] = [pair[m]!, pair[1 - m]!];
          for (let i = 0; !(await Promise.all(['hv1', 'hv3'].map((h) => steersTo(h, master.ip, standby.ip)))).every(Boolean); i++) {
            if (i > 240) throw new Error(`trial ${trial}: sources do not steer to ${master.name}`);
            await sleep(250);
          }
          const garps = startInNs(standby.ns.name, ['tcpdump', '-l', '-n', '-tt', '-i', 'eth0', `arp and arp[14:4] = arp[24:4]`]);
          await garps.waitFor(/listening on/, 10_000);
          const client = startInNs(sources[0]!.ns.name, ['python3', '-c', CLIENT(b.ip)]);
          await client.waitFor(/^ok /m, 10_000);
          const killedAt = Date.now();
          await master.ns.ip(['link', 'set', 'eth0', 'down']);
          await killVrrp(master);
          // Redirected on every source host: poll both router namespaces.
          const redirected = await Promise.all(
            ['hv1', 'hv3'].map(async (h) => {
              for (;;) {
                if (await steersTo(h, standby.ip, master.ip)) return Date.now();
                if (Date.now() - killedAt > 60_000) throw new Error(`trial ${trial}: ${h} never steered to ${standby.name}`);
                await sleep(5);
              }
            }),
          );
          const attemptsOf = () =>
            client
              .output()
              .split('\n')
              .filter((l) => /^(ok|fail) \d+$/.test(l))
              .map((l) => ({ ok: l.startsWith('ok'), t: Number(l.split(' ')[1]) }));
          /** The first successful attempt after the first failed one since the kill. */
          const reconnected = () => {
            const a = attemptsOf();
            const firstFail = a.findIndex((x) => !x.ok && x.t >= killedAt - 250);
            return firstFail < 0 ? undefined : a.slice(firstFail).find((x) => x.ok);
          };
          for (let i = 0; reconnected() === undefined; i++) {
            if (i > 600) throw new Error(`trial ${trial}: no connection within 30 s of the redirect`);
            await sleep(50);
          }
          await client.stop();
          await garps.stop();
          const firstOk = reconnected();
          const garpLine = garps.output().split('\n').find((l) => /^\d+\.\d+ /.test(l) && l.includes(VIP));
          if (!firstOk || !garpLine) throw new Error(`trial ${trial}: incomplete (first connection ${firstOk?.t}, GARP ${garpLine})`);
          const garpAt = Math.round(Number(garpLine.split(' ')[0]) * 1000);
          const t: Trial = { killedAt, garpAt, garpMs: garpAt - killedAt, redirectMs: Math.max(...redirected) - garpAt, connectMs: firstOk.t - killedAt };
          trials.push(t);
          log(`trial ${trial + 1}/${TRIALS}: ${master.name} killed; GARP +${t.garpMs} ms, all sources redirected ${t.redirectMs} ms after it, first connection +${t.connectMs} ms`);
          // The killed appliance comes back as a VRRP backup (nopreempt: it does not take over).
          await master.ns.ip(['link', 'set', 'eth0', 'up']);
          await master.ns.ip(['route', 'replace', 'default', 'via', svc.subnet.gatewayIp!]);
          startVrrp(master, m === 0 ? 150 : 100);
          await sleep(1500);
        }
      } finally {
        for (const v of pair) await killVrrp(v);
        await server.stop();
      }
      // Where the time goes between the GARP and the redirect: when JetStream stored each decision (a reactor's event carries its cause's occurredAt).
      const store = await JetStreamEventStore.open(lab.ipam.nc);
      const times = async (subject: string, type: string): Promise<number[]> => {
        const out: number[] = [];
        for await (const e of store.read({ subject })) if (e.type === type) out.push(Date.parse(e.storedAt));
        return out;
      };
      const owners = await times(aggregateSubject(networkAggregate(svc.net.id)), 'ipam.AddressPairOwnerChanged');
      const decisions = await times(aggregateSubject(functionGroupAggregate(group.id)), 'chaining.ActiveFunctionChanged');
      for (const t of trials) {
        const owner = owners.find((x) => x >= t.killedAt);
        const decision = decisions.find((x) => x >= t.killedAt);
        if (owner === undefined || decision === undefined) continue;
        t.ownerMs = owner - t.garpAt;
        t.decisionMs = decision - owner;
        t.appliedMs = t.garpAt + t.redirectMs - decision;
      }
      const passes = appliedLines(lab.host('hv1').agent!);
      for (const t of trials) t.passes = passes.filter((p) => p.time >= t.garpAt && p.time <= t.garpAt + t.redirectMs + 50).map((p) => p.seconds * 1000);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report(trials);
}

function report(trials: Trial[]): void {
  const col = (f: (t: Trial) => number): string => {
    const xs = trials.map(f);
    return `${median(xs).toFixed(0)} | ${pct(xs, 99).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
  };
  console.log(`\nuptime at the end: ${uptime()}\n`);
  console.log(`## Active appliance killed, ${trials.length} trials (ms)\n`);
  console.log('| interval | p50 | p99 | range |');
  console.log('|---|---|---|---|');
  console.log(`| kill → standby's first GARP (VRRP detection, the baseline) | ${col((t) => t.garpMs)} |`);
  console.log(`| GARP → both source hosts steer to the standby (Strata) | ${col((t) => t.redirectMs)} |`);
  console.log(`| kill → first successful new connection | ${col((t) => t.connectMs)} |`);
  const split = trials.filter((t) => t.ownerMs !== undefined);
  if (split.length) {
    const c2 = (f: (t: Trial) => number): string => {
      const xs = split.map(f);
      return `${median(xs).toFixed(0)} | ${pct(xs, 99).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
    };
    console.log(`\nThe GARP → redirect interval split by when JetStream stored each decision, ${split.length} trials:\n`);
    console.log('| step | p50 | p99 | range |');
    console.log('|---|---|---|---|');
    console.log(`| GARP → IPAM records the new owner (agent's watcher, report, decision, append) | ${c2((t) => t.ownerMs!)} |`);
    console.log(`| owner event → chaining's ActiveFunctionChanged (reactor) | ${c2((t) => t.decisionMs!)} |`);
    console.log(`| decision → both source hosts steer (hostview, agents' passes) | ${c2((t) => t.appliedMs!)} |`);
  }
  const passes = trials.flatMap((t) => t.passes ?? []);
  if (passes.length) {
    const perTrial = trials.map((t) => t.passes?.length ?? 0);
    console.log(`\nhv1's agent between a GARP and its redirect: ${median(perTrial)} kernel passes per trial (median; ${Math.min(...perTrial)}–${Math.max(...perTrial)}), each ${median(passes).toFixed(0)} ms (median; ${Math.min(...passes).toFixed(0)}–${Math.max(...passes).toFixed(0)})`);
  }
  const ratio = trials.map((t) => t.connectMs / t.garpMs);
  printRatio(ratio.length ? median(ratio) : NaN, {
    measured: `kill → first successful new connection (p50 ${median(trials.map((t) => t.connectMs)).toFixed(0)} ms)`,
    baseline: `kill → standby's first GARP, VRRP's own detection (p50 ${median(trials.map((t) => t.garpMs)).toFixed(0)} ms; median of per-trial ratios)`,
    goal: 'recorded (docs/performance.md: 1.07)',
    also: `range ${Math.min(...ratio).toFixed(2)}–${Math.max(...ratio).toFixed(2)}; GARP → redirect p50 ${median(trials.map((t) => t.redirectMs)).toFixed(0)} ms`,
  });
}

await main();
