/**
 * Retried requests against the control plane as production runs it (see
 * support/tenant-plane.ts): a request re-sent with the same x-request-id
 * after JetStream's duplicate window has passed, after later requests
 * changed the same resource, after every service restarted.
 *
 * Guards issue 11, defect 6: a command re-sent with the same x-request-id
 * within the duplicate window (2 min) changed nothing, but re-sent after it
 * was applied again (a port bound back to its old host, groups reverted, a
 * floating IP re-associated). The guarantee now: answered from the request
 * index the service folds from its own log, for at least 24 hours.
 *
 * Not waiting two minutes: the operator shortens the stream's duplicate
 * window to one second for the test (as admin, the only user allowed to
 * update the stream), and sets it back before the services restart (they
 * would refuse to start on a stream that differs from their configuration).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { nanos } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess, type ManagedProcess } from '@strata/lab';
import { EVENT_STREAM, startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

const SHORT_WINDOW_MS = 1_000;
const PRODUCTION_WINDOW_MS = 2 * 60_000;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Port {
  id: string;
  hostId?: string;
}

describe('idempotent requests outlive the duplicate window, restarts and instances', () => {
  let t: TenantPlane;
  const restarted: ManagedProcess[] = [];
  let port: Port;
  let groups: { web: string; db: string };
  let fip: string;
  /** Request ids of the commands that are re-sent later, with the argv they were first sent with. */
  const sent: { argv: string[]; requestId: string }[] = [];
  let doomed: string;
  let seqAfterOriginals = 0;

  async function send<T>(argv: string[], requestId = randomUUID()): Promise<T> {
    const r = await t.json<T>('tenant-a', argv, requestId);
    sent.push({ argv, requestId });
    return r;
  }

  async function setDuplicateWindow(ms: number): Promise<void> {
    const jsm = await t.admin.jetstreamManager();
    const { config } = await jsm.streams.info(EVENT_STREAM);
    await jsm.streams.update(EVENT_STREAM, { ...config, duplicate_window: nanos(ms) });
  }

  beforeAll(async () => {
    t = await startTenantPlane(['tenant-a']);
    await setDuplicateWindow(SHORT_WINDOW_MS);
    const hostPool = (await t.json<{ id: string }>('admin', ['pool', 'create', '--cidr', '198.51.100.0/28', '--purpose', 'host-ip'])).id;
    const fipPool = (await t.json<{ id: string }>('admin', ['pool', 'create', '--cidr', '203.0.113.0/28', '--purpose', 'floating-ip'])).id;
    await t.json('admin', ['hypervisor', 'register', 'hv1', '--vtep-ip', '198.18.0.1', '--host-pool', hostPool]);
    await t.json('admin', ['hypervisor', 'register', 'hv2', '--vtep-ip', '198.18.0.2', '--host-pool', hostPool]);
    const net = await t.json<{ id: string }>('tenant-a', ['network', 'create']);
    await t.json('tenant-a', ['subnet', 'create', '--network', net.id, '--cidr', '10.0.0.0/24']);
    port = await t.json<Port>('tenant-a', ['port', 'create', '--network', net.id]);
    groups = {
      web: (await t.json<{ id: string }>('tenant-a', ['secgroup', 'create', '--name', 'web'])).id,
      db: (await t.json<{ id: string }>('tenant-a', ['secgroup', 'create', '--name', 'db'])).id,
    };
    fip = (await t.json<{ id: string }>('tenant-a', ['floatingip', 'create', '--pool', fipPool])).id;

    // The requests that are re-sent below, each followed by one that changes the same thing again.
    await send(['port', 'bind', port.id, '--host', 'hv1']);
    await send(['port', 'bind', port.id, '--host', 'hv2']);
    await send(['port', 'set-groups', port.id, groups.web]);
    await send(['port', 'set-groups', port.id, groups.db]);
    await send(['floatingip', 'associate', fip, port.id]);
    await send(['floatingip', 'disassociate', fip]);
    // Network deletion writes two events (close, then delete): a retry must re-apply neither.
    doomed = (await send<{ id: string }>(['network', 'create', '--name', 'doomed'])).id;
    await send(['network', 'delete', doomed]);
    seqAfterOriginals = await t.lastSeq();

    // Past the (shortened) duplicate window, JetStream no longer recognises these event ids: only
    // Strata's own record can. A wait for time itself to pass, not for a condition.
    await new Promise((r) => setTimeout(r, 3 * SHORT_WINDOW_MS));
  });

  afterAll(async () => {
    for (const p of restarted) await p.stop(5_000).catch(() => undefined);
    await t?.stop();
  });

  /**
   * Re-send every recorded request exactly as first sent. Each is answered as
   * applied, with the resource as it is now; the create of the network deleted
   * since answers NOT_FOUND (its resource is gone), and is not created again.
   */
  async function resendAll(): Promise<void> {
    for (const { argv, requestId } of sent) {
      const r = await t.cli('tenant-a', [...argv, '-o', 'json'], requestId);
      const gone = argv[0] === 'network' && argv[1] === 'create';
      expect(r.err, `retry of strata ${argv.join(' ')}`).toBe(gone ? `error: NOT_FOUND: network ${doomed} not found\n` : '');
      expect(r.code === 0).toBe(!gone);
    }
  }

  async function expectLatestStateKept(): Promise<void> {
    expect(await t.json<Port>('tenant-a', ['port', 'show', port.id])).toMatchObject({ hostId: 'hv2' });
    expect(await t.json<{ groupIds: string[] }>('tenant-a', ['port', 'security', port.id])).toMatchObject({ groupIds: [groups.db] });
    const f = await t.json<{ association?: { portId?: string } }>('tenant-a', ['floatingip', 'show', fip]);
    expect(f.association?.portId).toBeUndefined();
    expect(await t.lastSeq()).toBe(seqAfterOriginals);
  }

  it('every request re-sent after the duplicate window is answered and changes nothing: no event, the later state stays', async () => {
    // The first bind's retry answers with the port (as it is now: on hv2), not an error.
    const first = sent[0]!;
    expect(await t.json<Port>('tenant-a', first.argv, first.requestId)).toMatchObject({ id: port.id, hostId: 'hv2' });
    await resendAll();
    await expectLatestStateKept();
  });

  it('a request id re-used for another command is refused with INVALID_ARGUMENT naming x-request-id, and writes nothing', async () => {
    const bindToHv1 = sent[0]!;
    const r = await t.cli('tenant-a', ['port', 'bind', port.id, '--unbind'], bindToHv1.requestId);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/INVALID_ARGUMENT: x-request-id \S+ was already used for a different request/);
    await expectLatestStateKept();
  });

  it('after every service restarted (snapshot or replay: only the log remains), re-sent requests still change nothing', async () => {
    // The services check the stream's configuration at start and may not change it: production's window first.
    await setDuplicateWindow(PRODUCTION_WINDOW_MS);
    const services = t.cp.processes.filter((p) => /^(ipam-\d|secgroup|nat)$/.test(p.name));
    expect(services.map((p) => p.name).sort()).toEqual(['ipam-1', 'ipam-2', 'nat', 'secgroup']);
    for (const p of services) await p.stop(10_000);
    for (const p of services) {
      const user = p.name.replace(/-\d$/, '');
      const main = `services/${user}/dist/main.js`;
      const next = startProcess(p.name, [process.execPath, `${ROOT}${main}`], {
        env: {
          NATS_URL: t.cp.natsUrl,
          NATS_USER: user,
          NATS_PASSWORD: t.cp.passwords[user]!,
          STRATA_COMMAND_VERIFY_KEYS: t.cp.commandKeys.verifyKey,
          STRATA_HTTP_PORT: '0',
          STRATA_LOG_LEVEL: 'info',
          STRATA_SERVICE_NAME: user,
        },
        readyWhen: /"msg":"started"|started/,
      });
      restarted.push(next);
    }
    await Promise.all(restarted.map((p) => p.ready));
    await resendAll();
    await expectLatestStateKept();
  });
});
