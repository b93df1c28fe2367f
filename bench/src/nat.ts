/**
 * NAT on the hypervisor: throughput through a floating IP and through PNAT
 * against routed traffic without NAT, and new connections per second through
 * PNAT on one host, all in one run.
 *
 *   npm run -w @strata/bench nat            (SECONDS=10 ROUNDS=3 CONN_SECONDS=5 by default)
 *   QUICK=1 npm run -w @strata/bench nat    (SECONDS=3 ROUNDS=1 CONN_SECONDS=2; under 2 minutes)
 *
 * A namespace lab (infra/lab) with two hypervisors, their agents, the NAT
 * service and the external side (border router + internet client). One
 * tenant with a router joining 10.30.0.0/24 and 10.30.1.0/24, external
 * gateway on: VM f (hv1, floating IP), VM p (hv1, PNAT only), VM r (hv2,
 * other subnet). Paths (iperf3, 1 TCP stream, interleaved, the order
 * rotating every round):
 *
 *   floating IP (DNAT)   internet client → f's floating IP: border → hv1 → sx/ext → domain (DNAT) → bridge → f
 *   PNAT (SNAT)          p → internet client: bridge → domain (masquerade) → ext/sx → hv1 (SNAT to H-IP) → border
 *   routed, no NAT       p (hv1) → r (hv2): bridge → domain (route) → bridge → VXLAN → hv2 → bridge
 *   underlay, no NAT     hv1 → internet client: eth0 → border → client (the "physical" path)
 *
 * The NAT paths and the routed one cross different devices, so both
 * baselines are reported. New connections per second (CONN_SECONDS, 8
 * concurrent connect/read/close loops): p → client (PNAT) vs hv1 → client
 * (no NAT, no overlay) vs p → r (routed, no NAT).
 *
 * Last line: floating IP (internet → VM, DNAT on hv1) throughput ÷ the
 * underlay hv1 → internet client (no NAT, no overlay), median of per-round
 * ratios: what everything Strata adds on a north-south flow costs.
 */
import type { NetworkView, SubnetView } from '@strata/contracts';
import type { Vm } from '@strata/lab';
import { QUICK, fmt, intEnv, log, printRatio, table } from './support/common.js';
import { iperf, type Path, type Sample } from './support/iperf.js';
import { median, reachable, runHeader, sleep, startInNs, uptime, withLab, type NsProcess } from './support/overlay.js';

const SECONDS = intEnv('SECONDS', QUICK ? 3 : 10, 1, 120);
const ROUNDS = intEnv('ROUNDS', QUICK ? 1 : 3, 1, 20);
const CONN_SECONDS = intEnv('CONN_SECONDS', QUICK ? 2 : 5, 1, 60);
const PORT = 5201;
const CONN_PORT = 7070;

/** Accepts, answers one byte and closes first (TIME_WAIT stays on the server side, not on the measured client). */
const CONN_SERVER = `
import socket, threading, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4096)
print("listening", flush=True)
def loop():
    while True:
        c, _ = s.accept(); c.sendall(b"k"); c.close()
for _ in range(4): threading.Thread(target=loop, daemon=True).start()
threading.Event().wait()
`;
/** Connect, read the byte, close; 8 threads for N seconds; prints the completed count. */
const CONN_CLIENT = `
import socket, threading, time, sys
host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
end = time.time() + secs; done = [0] * 8; failed = [0] * 8
def loop(i):
    while time.time() < end:
        try:
            c = socket.create_connection((host, port), timeout=2); c.recv(1); c.close(); done[i] += 1
        except OSError:
            failed[i] += 1
ts = [threading.Thread(target=loop, args=(i,)) for i in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sum(done), sum(failed))
`;

async function connRate(label: string, ns: string, ip: string): Promise<{ label: string; perSecond: number; failed: number }> {
  const p = startInNs(ns, ['python3', '-c', CONN_CLIENT, ip, String(CONN_PORT), String(CONN_SECONDS)]);
  await p.exited;
  const [done, failed] = p.output().trim().split(/\s+/).map(Number);
  return { label, perSecond: (done ?? 0) / CONN_SECONDS, failed: failed ?? 0 };
}

async function main(): Promise<void> {
  runHeader('nat', { SECONDS, ROUNDS, CONN_SECONDS, streams: 1, QUICK: QUICK ? 1 : 0 });
  await withLab({ hypervisors: 2, resyncSeconds: 30, nat: true, external: true }, async (lab) => {
    const who = { tenant: 'bench', admin: false };
    const nets: NetworkView[] = [];
    const subnets: SubnetView[] = [];
    for (const cidr of ['10.30.0.0/24', '10.30.1.0/24']) {
      const net = await lab.ipam.command('network.create', { name: `nat-${cidr}` }, who);
      nets.push(net);
      subnets.push(await lab.ipam.command('subnet.create', { networkId: net.id, cidr }, who));
    }
    const router = await lab.ipam.command('router.create', { name: 'nat-bench' }, who);
    for (const s of subnets) await lab.ipam.command('router.addInterface', { id: router.id, subnetId: s.id }, who);
    // Open ingress for the benchmark ports (the default group admits only its own members).
    const open = await lab.secgroup.command('group.create', { name: 'open', description: '' }, who);
    for (const ethertype of ['IPv4', 'IPv6'] as const) {
      await lab.secgroup.command('rule.create', { groupId: open.id, direction: 'ingress', ethertype, protocol: 'any' }, who);
      await lab.secgroup.command('rule.create', { groupId: open.id, direction: 'egress', ethertype, protocol: 'any' }, who);
    }
    const vm = async (name: string, net: number, host: string): Promise<Vm> => {
      const port = await lab.ipam.command('port.create', { networkId: nets[net]!.id, name, hostId: host }, who);
      await lab.secgroup.command('port.setGroups', { portId: port.id, groupIds: [open.id] }, who);
      const v = await lab.addVm(name, port, host);
      const s = subnets[net]!;
      await v.configureStatic({ [s.id]: { prefixLength: 24, gatewayIp: s.gatewayIp, mtu: nets[net]!.mtu } });
      return v;
    };
    const f = await vm('f', 0, 'hv1');
    const p = await vm('p', 0, 'hv1');
    const r = await vm('r', 1, 'hv2');
    const pool = await lab.ipam.command('pool.create', { name: 'fip', cidr: '203.0.113.0/25', purpose: 'floating-ip' });
    const fip = await lab.ipam.command('floatingip.create', { poolId: pool.id }, who);
    await lab.nat!.command('router.setGateway', { routerId: router.id, enabled: true }, who);
    await lab.nat!.command('floatingip.associate', { floatingIpId: fip.id, portId: f.port.id }, who);
    await lab.routeFloatingIp(fip.address, 'hv1');
    const client = lab.external!.client;
    const clientIp = '203.0.113.200';
    await reachable(p, clientIp);
    await reachable(p, r.ip);
    for (let i = 0; i < 120 && !(await client.ok(['ping', '-c', '1', '-W', '1', fip.address])); i++) await sleep(250);
    const hv1 = lab.host('hv1');
    log(`up: floating IP ${fip.address} → f ${f.ip} (hv1); p ${p.ip} (hv1, H-IP ${lab.publicIps.get('hv1')}); r ${r.ip} (hv2)`);

    const paths: Path[] = [
      { key: 'fip', label: 'floating IP: internet → VM (DNAT on hv1)', clientNs: client.name, serverNs: f.ns.name, serverIp: fip.address, mtu: 1450 },
      { key: 'pnat', label: 'PNAT: VM → internet (SNAT on hv1)', clientNs: p.ns.name, serverNs: client.name, serverIp: clientIp, mtu: 1450 },
      { key: 'routed', label: 'routed, no NAT: VM → VM, other subnet, other host', clientNs: p.ns.name, serverNs: r.ns.name, serverIp: r.ip, mtu: 1450 },
      { key: 'underlay', label: 'underlay, no NAT: hv1 → internet', clientNs: hv1.ns.name, serverNs: client.name, serverIp: clientIp, mtu: 1500 },
    ];
    const servers: NsProcess[] = [];
    try {
      // One iperf3 server per namespace (the internet client serves two paths, one at a time).
      for (const ns of [...new Set(paths.map((x) => x.serverNs))]) {
        const s = startInNs(ns, ['iperf3', '-s', '-p', String(PORT), '--forceflush']);
        servers.push(s);
        await s.waitFor(/Server listening/, 10_000);
      }
      const samples: Sample[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        log(`round ${round + 1}/${ROUNDS}: ${uptime()}`);
        for (let k = 0; k < paths.length; k++) {
          const path = paths[(k + round) % paths.length]!;
          const s = await iperf(path, round, SECONDS, PORT);
          samples.push(s);
          log(`  ${path.label}: ${s.gbps.toFixed(2)} Gbit/s, ${s.retransmits} retransmits, machine busy ${(s.busy * 100).toFixed(0)}%`);
          await sleep(1000);
        }
      }
      for (const ns of [client.name, r.ns.name]) {
        const s = startInNs(ns, ['python3', '-c', CONN_SERVER, String(CONN_PORT)]);
        servers.push(s);
        await s.waitFor(/listening/, 10_000);
      }
      const conns = [];
      for (let round = 0; round < ROUNDS; round++) {
        log(`connections round ${round + 1}/${ROUNDS}: ${uptime()}`);
        for (const [label, ns, ip] of [
          ['PNAT: VM → internet', p.ns.name, clientIp],
          ['underlay, no NAT: hv1 → internet', hv1.ns.name, clientIp],
          ['routed, no NAT: VM → VM other host', p.ns.name, r.ip],
        ] as const) {
          const c = await connRate(label, ns, ip);
          conns.push({ ...c, round });
          log(`  ${label}: ${fmt(c.perSecond)} connections/s (${c.failed} failed)`);
          await sleep(1000);
        }
      }
      report(paths, samples, conns);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });
}

function report(paths: Path[], samples: Sample[], conns: Array<{ label: string; perSecond: number; failed: number; round: number }>): void {
  const perRound = (key: string, base: string): number[] => {
    const rs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const x = samples.find((s) => s.path === key && s.round === r);
      const y = samples.find((s) => s.path === base && s.round === r);
      if (x && y && y.gbps > 0) rs.push(x.gbps / y.gbps);
    }
    return rs;
  };
  const ratio = (key: string, base: string): string => {
    const rs = perRound(key, base);
    return rs.length ? `${median(rs).toFixed(2)} (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})` : 'n/a';
  };
  console.log(`\nuptime at the end: ${uptime()}\n`);
  console.log(`TCP throughput, 1 stream, ${SECONDS} s per run, ${ROUNDS} round(s); Gbit/s median (min–max); ratio = median of per-round ratios (min–max)\n`);
  table(
    ['path', 'MTU', 'Gbit/s', 'vs routed, no NAT', 'vs underlay', 'retransmits (median)', 'machine busy % (median)'],
    paths.map((p) => {
      const s = samples.filter((x) => x.path === p.key);
      const g = s.map((x) => x.gbps);
      return [
        p.label,
        String(p.mtu),
        `${fmt(median(g), 2)} (${fmt(Math.min(...g), 2)}–${fmt(Math.max(...g), 2)})`,
        p.key === 'routed' ? '1' : ratio(p.key, 'routed'),
        p.key === 'underlay' ? '1' : ratio(p.key, 'underlay'),
        fmt(median(s.map((x) => x.retransmits))),
        fmt(median(s.map((x) => x.busy * 100))),
      ];
    }),
  );
  const labels = [...new Set(conns.map((c) => c.label))];
  const per = (label: string): number[] => conns.filter((c) => c.label === label).map((c) => c.perSecond);
  const base = (label: string, of: string): string => {
    const rs = [];
    for (let r = 0; r < ROUNDS; r++) {
      const x = conns.find((c) => c.label === label && c.round === r);
      const y = conns.find((c) => c.label === of && c.round === r);
      if (x && y && y.perSecond > 0) rs.push(x.perSecond / y.perSecond);
    }
    return rs.length ? median(rs).toFixed(2) : 'n/a';
  };
  console.log(`\nNew TCP connections per second (8 concurrent loops, ${CONN_SECONDS} s, python client and server), median (min–max) of ${ROUNDS} rounds\n`);
  table(
    ['path', 'connections/s', 'vs underlay', 'failed (sum)'],
    labels.map((l) => [l, `${fmt(median(per(l)))} (${fmt(Math.min(...per(l)))}–${fmt(Math.max(...per(l)))})`, base(l, labels[1]!), fmt(conns.filter((c) => c.label === l).reduce((n, c) => n + c.failed, 0))]),
  );
  const fip = perRound('fip', 'underlay');
  printRatio(fip.length ? median(fip) : NaN, {
    measured: 'floating IP internet → VM (DNAT) iperf3 throughput',
    baseline: 'underlay hv1 → internet, no NAT (median of per-round ratios)',
    goal: 'recorded (docs/performance.md: 0.84)',
    also: `PNAT ${ratio('pnat', 'underlay')}; PNAT connections/s vs underlay ${base(labels[0]!, labels[1]!)}`,
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
