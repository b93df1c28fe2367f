/**
 * Realisation over NATS with real hostview partitions: IPAM, hostview in two
 * partitions (each owning some hosts) and the status service, with agents
 * played on their own NATS users (real reports: the applied position and
 * their ports' state). The status service collects both partitions'
 * positions: a port is BUILD until its host and its peers applied the
 * position hostview wrote for them, then ACTIVE; the barrier counts every
 * host of both partitions; with one partition gone the answer is
 * UNAVAILABLE, never a count without its hosts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { ADMIN, IpamClient, ReportingAgent, startHostview, startIpam, startStatus, StatusClient, type Principal } from './test/support.js';

const HOSTS = ['hv1', 'hv2', 'hv3'] as const;
const tenantA: Principal = { tenant: 'tenant-a', admin: false };

describe('status service: realisation from two hostview partitions', () => {
  let nats: StrataNats;
  const processes: ManagedProcess[] = [];
  let ipam: IpamClient;
  let client: StatusClient;
  const agents = new Map<string, ReportingAgent>();
  const ports = new Map<string, string>();

  /** The position hostview wrote to the host's view (what its agent must apply). */
  const viewPosition = async (hostId: string): Promise<number> => (await client.query('hypervisor.get', { id: hostId }, ADMIN)).viewPosition ?? 0;

  beforeAll(async () => {
    nats = await startProvisionedNats({ agents: HOSTS });
    const ipamProcess = startIpam(nats.env('ipam'));
    processes.push(ipamProcess);
    await ipamProcess.ready;
    processes.push(startHostview(nats.env('hostview'), '0/2'), startHostview(nats.env('hostview'), '1/2'));
    processes.push(startStatus(nats.env('status'), { STATUS_HOSTVIEW_TIMEOUT_MS: '2000' }));
    await Promise.all(processes.map((p) => p.ready));
    ipam = new IpamClient(await nats.connect('api'));
    client = new StatusClient(ipam.nc, 15_000, ipam.seq);
    const pool = await ipam.command('pool.create', { name: 'h', cidr: '198.51.100.0/24', purpose: 'host-ip' }, ADMIN);
    for (const [i, id] of HOSTS.entries()) await ipam.command('hypervisor.register', { id, vtepIp: `198.18.0.${11 + i}`, hostPoolId: pool.id }, ADMIN);
    const net = await ipam.command('network.create', { name: 'n' }, tenantA);
    await ipam.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/24' }, tenantA);
    for (const id of HOSTS) ports.set(id, (await ipam.command('port.create', { networkId: net.id, hostId: id }, tenantA)).id);
    for (const id of HOSTS) {
      const a = new ReportingAgent(await nats.connect(`agent-${id}`), id);
      a.ports = [{ portId: ports.get(id)!, state: 'up', reason: '' }];
      a.start(200);
      agents.set(id, a);
    }
  }, 90_000);

  afterAll(async () => {
    for (const a of agents.values()) a.stop();
    await ipam?.close();
    for (const p of [...processes].reverse()) await p.stop();
    await nats?.stop();
  });

  it('keeps a port in BUILD until its host and every peer applied hostview\'s position, then ACTIVE; the barrier counts both partitions\' hosts', async () => {
    const p1 = ports.get('hv1')!;
    const position = ipam.lastSeq;
    // Every host has a view (each holds the network's ports) and its position, from whichever partition owns it.
    await waitFor(async () => (await Promise.all(HOSTS.map(viewPosition))).every((p) => p > 0), { message: 'every host has a view position' });
    const before = await client.query('barrier', { position }, ADMIN);
    expect(before).toMatchObject({ position, realised: false, hosts: 3 });
    expect(before.behind.map((b) => b.reason)).toEqual(HOSTS.map((h) => `agent on ${h} has applied no view yet`));

    // hv1 applies its view: p1 still waits for its peers.
    agents.get('hv1')!.appliedPosition = await viewPosition('hv1');
    agents.get('hv1')!.report();
    await waitFor(async () => (await client.query('port.status', { ids: [p1] }, tenantA)).items[0]!.reason.startsWith('waiting for peers: '), { message: 'p1 waits for its peers' });
    const waiting = (await client.query('port.status', { ids: [p1] }, tenantA)).items[0]!;
    expect(waiting).toMatchObject({ status: 'BUILD', hostId: 'hv1', realisation: { hosts: 3, applied: 1, realised: false } });
    expect(waiting.realisation.behind.map((b) => b.hostId)).toEqual(['hv2', 'hv3']);

    for (const h of ['hv2', 'hv3']) {
      agents.get(h)!.appliedPosition = await viewPosition(h);
      agents.get(h)!.generation++;
      agents.get(h)!.report();
    }
    await waitFor(async () => (await client.query('port.status', { ids: [p1] }, tenantA)).items[0]!.status === 'ACTIVE', { message: 'p1 ACTIVE' });
    const active = (await client.query('port.status', { ids: [...ports.values()] }, tenantA)).items;
    expect(active.map((s) => s.status)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
    expect(await client.query('barrier', { position }, ADMIN)).toEqual({ position, realised: true, behind: [], hosts: 3 });
    const net = await client.query('resource.realisation', { kind: 'port', id: p1 }, tenantA);
    expect(net).toMatchObject({ hosts: 3, applied: 3, realised: true });
  });

  it('answers UNAVAILABLE, naming the partitions that did not answer, when one hostview partition is gone', async () => {
    const gone = processes.find((p) => p.name === 'hostview-1-2')!;
    await gone.stop();
    await expect(client.query('port.status', { ids: [ports.get('hv1')!] }, tenantA)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/1 of 2 partitions did not answer/),
    });
    await expect(client.query('barrier', { position: 1 }, ADMIN)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // A hypervisor's view position is then unknown (null), never a wrong one.
    expect((await client.query('hypervisor.get', { id: 'hv1' }, ADMIN)).viewPosition).toBeNull();
  });
});
