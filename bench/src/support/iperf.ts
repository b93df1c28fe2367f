/** iperf3 runs between namespaces, shared by the throughput benchmarks. */
import { log, withTimeout } from './common.js';
import { CpuBusy, sleep, startInNs, uptime, type NsProcess } from './overlay.js';

export interface Path {
  key: string;
  label: string;
  clientNs: string;
  serverNs: string;
  serverIp: string;
  mtu: number;
}

export interface Sample {
  path: string;
  round: number;
  gbps: number;
  retransmits: number;
  senderCpu: number;
  receiverCpu: number;
  busy: number;
}

/** One iperf3 run (1 TCP stream, `seconds`) over `path`, against a server already listening on `port`. */
export async function iperf(path: Path, round: number, seconds: number, port: number): Promise<Sample> {
  const busy = new CpuBusy();
  const client = startInNs(path.clientNs, ['iperf3', '-c', path.serverIp, '-p', String(port), '-t', String(seconds), '-P', '1', '-J', '--connect-timeout', '5000']);
  let code: number | null;
  try {
    code = await withTimeout(client.exited, (seconds + 30) * 1000, `${path.label}: iperf3 client`);
  } catch (err) {
    await client.stop();
    throw err;
  }
  const share = busy.share();
  let j: {
    error?: string;
    end?: {
      sum_received?: { bits_per_second: number };
      sum_sent?: { retransmits?: number };
      cpu_utilization_percent?: { host_total: number; remote_total: number };
    };
  };
  try {
    j = JSON.parse(client.output()) as typeof j;
  } catch {
    throw new Error(`${path.label}: iperf3 output is not JSON:\n${client.output().slice(-2000)}`);
  }
  if (code !== 0 || j.error || !j.end?.sum_received) throw new Error(`${path.label}: iperf3 failed (exit ${code}): ${j.error ?? client.output().slice(-1000)}`);
  return {
    path: path.key,
    round,
    gbps: j.end.sum_received.bits_per_second / 1e9,
    retransmits: j.end.sum_sent?.retransmits ?? 0,
    senderCpu: j.end.cpu_utilization_percent?.host_total ?? NaN,
    receiverCpu: j.end.cpu_utilization_percent?.remote_total ?? NaN,
    busy: share,
  };
}


/**
 * An iperf3 server per path, then `rounds` rounds of one run per path, the
 * order rotating each round so no path always runs first on a warm or cold
 * machine. The servers are pushed into `servers` as they start: the caller
 * stops them (also when a run fails).
 */
export async function iperfRounds(
  paths: readonly Path[],
  o: { rounds: number; seconds: number; port: number; servers: NsProcess[] },
  describe: (s: Sample) => string,
): Promise<Sample[]> {
  for (const p of paths) {
    const s = startInNs(p.serverNs, ['iperf3', '-s', '-p', String(o.port), '-B', p.serverIp, '--forceflush']);
    o.servers.push(s);
    await s.waitFor(/Server listening/, 10_000);
  }
  const samples: Sample[] = [];
  for (let r = 0; r < o.rounds; r++) {
    log(`round ${r + 1}/${o.rounds}: ${uptime()}`);
    for (let k = 0; k < paths.length; k++) {
      const p = paths[(k + r) % paths.length]!;
      const s = await iperf(p, r, o.seconds, o.port);
      samples.push(s);
      log(`  ${p.label}: ${describe(s)}`);
      await sleep(1000);
    }
  }
  return samples;
}
