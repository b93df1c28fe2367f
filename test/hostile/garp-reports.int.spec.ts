/**
 * Issue 14: the GARP report boundary. An agent reports gratuitous ARPs of
 * its local ports' allowed address pairs on its own status subject
 * (`strata.status.<host>.garp`), and IPAM makes the reporting port the
 * owner of the address (`ipam.AddressPairOwnerChanged`): local ARP answers
 * everywhere then follow it. An agent (compromised, or buggy) must not be
 * able to move another host's address: a report about a port bound to
 * another host, for an address not in the port's pairs, or naming another
 * reporter than its subject, changes nothing; and its NATS user cannot
 * publish on another host's status subject at all.
 *
 * Real components: nats-server with the production users, ipam x2, the API
 * and the CLI (startControlPlane).
 */
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { garpObservationSubject, type GarpObservation } from '@strata/contracts';
import { waitFor } from '@strata/testing';
import { startHostileControlPlane, type HostileControlPlane } from './support/control-plane.js';

const VIP = '10.0.0.100';

interface PortOut {
  id: string;
  mac: string;
  hostId?: string;
  allowedAddressPairs: Array<{ ipAddress: string; macAddress: string }>;
  ownedAddresses: string[];
}

describe('hostile: GARP reports from agents', () => {
  let cp: HostileControlPlane;
  let a: PortOut;
  let b: PortOut;
  let hv1: NatsConnection;
  let hv1Errors: string[];
  let hv2: NatsConnection;

  const json = <T,>(who: string, argv: string[]): Promise<T> => cp.cli.json<T>(cp.tokens[who]!, argv);
  const show = (id: string) => json<PortOut>('alpha', ['port', 'show', id]);
  const report = (nc: NatsConnection, subjectHost: string, r: GarpObservation): void => nc.publish(garpObservationSubject(subjectHost), JSON.stringify(r));
  const ipamLog = (): string => cp.processes.filter((p) => p.name.startsWith('ipam')).map((p) => p.output()).join('\n');
  const ignored = (portId: string, reason: string): boolean =>
    ipamLog()
      .split('\n')
      .some((l) => l.includes('GARP report ignored') && l.includes(portId) && l.includes(`"reason":"${reason}"`));

  beforeAll(async () => {
    cp = await startHostileControlPlane(['alpha'], { agents: ['hv1', 'hv2'] });
    const pool = await json<{ id: string }>('admin', ['pool', 'create', '--cidr', '203.0.113.0/24', '--purpose', 'host-ip']);
    await json('admin', ['hypervisor', 'register', 'hv1', '--vtep-ip', '198.18.0.1', '--host-pool', pool.id]);
    await json('admin', ['hypervisor', 'register', 'hv2', '--vtep-ip', '198.18.0.2', '--host-pool', pool.id]);
    const net = await json<{ id: string }>('alpha', ['network', 'create', '--name', 'vrrp']);
    await json('alpha', ['subnet', 'create', '--network', net.id, '--cidr', '10.0.0.0/24']);
    a = await json<PortOut>('alpha', ['port', 'create', '--network', net.id, '--host', 'hv1', '--allowed-address-pair', `ip=${VIP}`]);
    b = await json<PortOut>('alpha', ['port', 'create', '--network', net.id, '--host', 'hv2']);
    b = await json<PortOut>('alpha', ['port', 'set', b.id, '--allowed-address-pair', `ip=${VIP}/32`]);
    hv1 = await cp.connectAs('agent-hv1');
    hv1Errors = [];
    void (async () => {
      for await (const s of hv1.status()) {
        const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
        if (s.type === 'error' && ctx) hv1Errors.push(`${ctx.operation} ${ctx.subject}`);
      }
    })();
    hv2 = await cp.connectAs('agent-hv2');
  });
  afterAll(async () => {
    await cp?.destroy();
  });

  it('the pairs are set through the API and CLI, each with the port own MAC', () => {
    expect(a.allowedAddressPairs).toEqual([{ ipAddress: VIP, macAddress: a.mac }]);
    expect(b.allowedAddressPairs).toEqual([{ ipAddress: VIP, macAddress: b.mac }]);
    expect(a.ownedAddresses).toEqual([]);
  });

  it('a report from the port own host makes it the owner (the control for what follows)', async () => {
    report(hv1, 'hv1', { hostId: 'hv1', portId: a.id, ip: VIP, mac: a.mac });
    await waitFor(async () => (await show(a.id)).ownedAddresses.includes(VIP), { message: 'port A owns the VIP', timeoutMs: 15_000 });
  });

  it("an agent reporting a GARP for a port bound to another host, for an address outside the pairs, or as another host: ignored, nothing written", async () => {
    const before = await cp.eventCount();
    report(hv1, 'hv1', { hostId: 'hv1', portId: b.id, ip: VIP, mac: b.mac });
    report(hv1, 'hv1', { hostId: 'hv1', portId: a.id, ip: '10.0.0.101', mac: a.mac });
    report(hv1, 'hv1', { hostId: 'hv2', portId: b.id, ip: VIP, mac: b.mac });
    await hv1.flush();
    await waitFor(() => ignored(b.id, 'wrong-host') && ignored(a.id, 'not-a-pair') && ignored(b.id, 'reporter-mismatch'), {
      message: 'IPAM judged the three reports',
      timeoutMs: 15_000,
    });
    expect(await cp.eventCount()).toBe(before);
    expect((await show(a.id)).ownedAddresses).toEqual([VIP]);
    expect((await show(b.id)).ownedAddresses).toEqual([]);
  });

  it("an agent cannot publish on another host's status subject; that host's own agent can, and the owner moves", async () => {
    const before = await cp.eventCount();
    report(hv1, 'hv2', { hostId: 'hv2', portId: b.id, ip: VIP, mac: b.mac });
    await hv1.flush();
    await waitFor(() => hv1Errors.includes(`publish ${garpObservationSubject('hv2')}`), { message: 'publish refused' });
    expect(await cp.eventCount()).toBe(before);
    expect((await show(b.id)).ownedAddresses).toEqual([]);
    // The same report from hv2's own agent is accepted: what stopped the first was the permission.
    report(hv2, 'hv2', { hostId: 'hv2', portId: b.id, ip: VIP, mac: b.mac });
    await waitFor(async () => (await show(b.id)).ownedAddresses.includes(VIP), { message: 'port B owns the VIP', timeoutMs: 15_000 });
    expect((await show(a.id)).ownedAddresses).toEqual([]);
    expect(await cp.eventCount()).toBe(before + 1);
  });

  it('bad pairs are refused with a clear error and nothing is written', async () => {
    const before = await cp.eventCount();
    for (const [spec, message] of [
      [`ip=fd00::1`, /IPv6 but network .* has no IPv6 subnet/],
      [`ip=10.0.0.1/24`, /host bits set/],
      [`ip=10.0.0.5,mac=01:00:5e:00:00:01`, /unicast/],
    ] as const) {
      const r = await cp.cli.cli(cp.tokens['alpha']!, ['port', 'set', a.id, '--allowed-address-pair', spec]);
      expect(r.code, spec).not.toBe(0);
      expect(r.err, spec).toMatch(message);
    }
    const eleven = Array.from({ length: 11 }, (_, i) => ['--allowed-address-pair', `ip=10.0.0.${150 + i}`]).flat();
    const r = await cp.cli.cli(cp.tokens['alpha']!, ['port', 'set', a.id, ...eleven]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/allowedAddressPairs.*10/);
    expect(await cp.eventCount()).toBe(before);
  });
});
