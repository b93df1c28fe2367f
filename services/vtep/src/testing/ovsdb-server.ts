/**
 * A real `ovsdb-server` for tests (Debian's openvswitch-common and the
 * hardware_vtep schema of openvswitch-vtep): fresh databases in `dir`, a
 * unix socket there and a TCP remote on a free loopback port, and
 * `vtep-ctl` against it — the tool an operator (or the ovs-vtep emulator)
 * uses to set up the physical switch and to read what the controller wrote.
 */
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from '@strata/testing';

const exec = promisify(execFile);

export const VTEP_SCHEMA = '/usr/share/openvswitch/vtep.ovsschema';
export const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export interface OvsdbServer {
  /** `tcp:127.0.0.1:<port>`: the device's OVSDB target. */
  target: string;
  socket: string;
  vtepCtl(...args: string[]): Promise<string>;
  /** Stop, and start again on the same port with empty databases (a switch that rebooted and lost its configuration). */
  restartEmpty(): Promise<void>;
  stop(): Promise<void>;
}

/** `vswitch`: serve Open_vSwitch too (the emulator's ovs-vswitchd and ovs-vtep share the server). `netns`: run it there. */
export async function startOvsdbServer(dir: string, o: { vswitch?: boolean; netns?: string } = {}): Promise<OvsdbServer> {
  // Open vSwitch's tools default to the system's run directory; everything of this server stays in `dir`.
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const run = (cmd: string, args: string[]) => exec(cmd, args, { env });
  const port = await freePort();
  const socket = join(dir, 'db.sock');
  const pidfile = join(dir, 'ovsdb-server.pid');
  const vtepCtl = async (...args: string[]) => (await run('vtep-ctl', [`--db=unix:${socket}`, ...args])).stdout.trim();

  /** Fresh, empty databases and a server on them; its pid. */
  const launch = async (): Promise<number> => {
    const dbs = [[join(dir, 'vtep.db'), VTEP_SCHEMA], ...(o.vswitch ? [[join(dir, 'conf.db'), VSWITCH_SCHEMA]] : [])] as [string, string][];
    for (const [file, schema] of dbs) {
      await rm(file, { force: true });
      await run('ovsdb-tool', ['create', file, schema]);
    }
    const argv = [
      ...dbs.map(([file]) => file),
      `--unixctl=${join(dir, 'ovsdb-server.ctl')}`,
      `--remote=punix:${socket}`,
      `--remote=ptcp:${port}:127.0.0.1`,
      `--pidfile=${pidfile}`,
      `--log-file=${join(dir, 'ovsdb-server.log')}`,
      '--detach',
      '--no-chdir',
    ];
    if (o.netns) await run('ip', ['netns', 'exec', o.netns, 'ovsdb-server', ...argv]);
    else await run('ovsdb-server', argv);
    await waitFor(async () => (await vtepCtl('list-ps').then(() => true, () => false)) || undefined, { timeoutMs: 10_000, intervalMs: 50, message: 'ovsdb-server answering' });
    return Number((await readFile(pidfile, 'utf8')).trim());
  };
  const kill = async (pid: number): Promise<void> => {
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (!alive()) return;
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !alive(), { timeoutMs: 10_000, intervalMs: 20, message: `ovsdb-server ${pid} gone` });
  };

  let pid = await launch();
  return {
    target: `tcp:127.0.0.1:${port}`,
    socket,
    vtepCtl,
    restartEmpty: async () => {
      await kill(pid);
      pid = await launch();
    },
    stop: () => kill(pid),
  };
}
