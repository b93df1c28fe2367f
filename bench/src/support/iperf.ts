/** iperf3 runs between namespaces, shared by the throughput benchmarks. */
import { withTimeout } from './common.js';
import { CpuBusy, startInNs } from './overlay.js';

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

