/**
 * Attack: another tenant takes over an appliance's prefixes.
 *
 * Guards issue 12, defect 2: with only tenant-b's token (a routed network, a
 * subnet overlapping the appliance subnet, a port with `--device fw-2` on a
 * hypervisor) and a BGP speaker at that port's address knowing the
 * appliance group's shared MD5 secret, fw-2's assigned prefixes were
 * recorded as learned for fw-2 and installed at the ToR via tenant-b's VM;
 * a port at fw-2's exact address took over fw-2's neighbour and fw-2's routes
 * were withdrawn. Every step of tenant-b goes through the real gRPC API
 * (the `strata` CLI) with tenant-b's token; the speakers are FRR.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GW, sh, type Frr } from '@strata/lab';
import { waitFor } from '@strata/testing';
import { applianceKey } from '@strata/bgp-gateway';
import { BgpHostileLab, GROUP_SECRET, HV, WAIT } from './support/bgp-lab.js';

const FW2 = '198.19.1.11';
const FW2_PREFIXES = ['198.51.100.137/32', '198.51.100.138/32'];
const IMPOSTOR = '198.19.1.66';

interface FrrPath {
  nexthops: { ip: string }[];
  peer?: { peerId?: string };
}

describe('hostile: tenant-b tries to take over fw-2 (tenant-a) and its prefixes', () => {
  const lab = new BgpHostileLab();
  let fw2: Frr;
  let evilNet: string;
  let evilSubnet: string;

  const torPaths = async (prefix: string): Promise<FrrPath[]> =>
    (await lab.fabric.tor.json<{ paths?: FrrPath[] }>(`show bgp ipv4 unicast ${prefix} json`)).paths ?? [];
  /** fw-2's prefixes at the ToR: only via fw-2's hypervisor, in BGP and in the kernel. */
  const fw2Intact = async (): Promise<void> => {
    for (const p of FW2_PREFIXES) {
      const hops = (await torPaths(p)).flatMap((x) => x.nexthops.map((n) => n.ip));
      expect(hops.length, p).toBeGreaterThan(0);
      expect(new Set(hops), p).toEqual(new Set([HV.hv1]));
      expect(await lab.torKernel(p.replace('/32', '')), p).toContain(`via ${HV.hv1}`);
    }
    const fw2Routes = (await lab.routes()).filter((r) => r.peer === FW2 && r.status === 'learned').map((r) => r.prefix);
    expect(fw2Routes.sort()).toEqual(FW2_PREFIXES);
  };
  /** When fw-2's session with gateway 1 was established (epoch seconds); -1 when it is not. */
  const fw2Since = async (): Promise<number> => {
    const s = await fw2.json<{ ipv4Unicast?: { peers?: Record<string, { state: string; peerUptimeEstablishedEpoch: number }> } }>('show bgp summary json');
    const peer = s.ipv4Unicast?.peers?.[GW[0].replace('198.18.0', '198.19.1')];
    return peer?.state === 'Established' ? peer.peerUptimeEstablishedEpoch : -1;
  };
  const md5Failures = async (): Promise<number> => {
    const out = await sh(['ip', 'netns', 'exec', lab.fabric.ns('gw1'), 'nstat', '-az', 'TcpExtTCPMD5Failure']);
    return Number(/TcpExtTCPMD5Failure\s+(\d+)/.exec(out)?.[1] ?? 0);
  };

  beforeAll(async () => {
    await lab.start(['tenant-a', 'tenant-b']);
    await lab.assignPrefix('198.51.100.136/29', 'fw-2');
    fw2 = (await lab.appliance('app2', 'fw-2', FW2, 'hv1', FW2_PREFIXES)).frr;
    await waitFor(async () => (await lab.routes()).filter((r) => r.peer === FW2 && r.status === 'learned').length === 2, { ...WAIT, message: "fw-2's routes learned" });
    await waitFor(async () => (await lab.torKernel('198.51.100.138')).includes(`via ${HV.hv1}`), { ...WAIT, message: "fw-2's prefixes in the ToR kernel" });
    // tenant-b, through the API with its own token: a routed network overlapping the appliance subnet. IPAM
    // refuses the overlap with another tenant's routed subnet; a log from before that rule may hold it: written directly.
    evilNet = (await lab.as<{ id: string }>('tenant-b', ['network', 'create', '--name', 'evil', '--routed'])).id;
    await expect(lab.as('tenant-b', ['subnet', 'create', '--network', evilNet, '--cidr', '198.19.1.0/24'])).rejects.toThrow(/overlaps another tenant's routed subnet/);
    evilSubnet = await lab.appendSubnet('tenant-b', evilNet, '198.19.1.0/24');
  });

  afterAll(async () => {
    await lab.stop();
  });

  it("a tenant-b port with --device fw-2 and a speaker with the group's shared secret gets no session and nothing recorded", async () => {
    await lab.as('tenant-b', ['port', 'create', '--network', evilNet, '--name', 'fw-2', '--host', 'hv2', '--device', 'fw-2', '--fixed-ip', `subnet=${evilSubnet},ip=${IMPOSTOR}`]);
    const before = await md5Failures();
    const impostor = await lab.fabric.appliance('evil1', IMPOSTOR, 1, GROUP_SECRET, FW2_PREFIXES);
    // The gateway holds a key for (tenant-b, fw-2), not the group's secret: the kernel drops the segments.
    await waitFor(async () => (await md5Failures()) > before, { ...WAIT, message: 'MD5 failures for the impostor at gateway 1' });
    expect(await impostor.sessionState('198.19.1.2')).not.toBe('Established');
    expect((await lab.routes()).filter((r) => r.peer === IMPOSTOR)).toEqual([]);
    await fw2Intact();
    await lab.fabric.removeAppliance('evil1', impostor);
  });

  it("even holding a valid key for its own port (tenant-b, fw-2), the speaker's fw-2 prefixes are refused and never reach the ToR", async () => {
    const impostor = await lab.fabric.appliance('evil2', IMPOSTOR, 1, applianceKey(GROUP_SECRET, 'tenant-b', 'fw-2'), FW2_PREFIXES);
    await waitFor(async () => (await impostor.sessionState('198.19.1.2')) === 'Established', { ...WAIT, message: 'impostor session (it has its own key)' });
    // Both gateways refuse them (each logs its own sessions' refusals); nothing is recorded for the impostor.
    await waitFor(async () => FW2_PREFIXES.every((p) => lab.refusalLogged(IMPOSTOR, p, 'not-assigned')), { ...WAIT, message: "the impostor's announcements refused" });
    expect((await lab.routes()).filter((r) => r.peer === IMPOSTOR)).toEqual([]);
    await fw2Intact();
    await lab.fabric.removeAppliance('evil2', impostor);
  });

  it("a tenant-b port at fw-2's exact address neither takes the neighbour nor resets fw-2's session nor moves its routes", async () => {
    const since = await fw2Since();
    expect(since).toBeGreaterThan(0);
    await lab.as('tenant-b', ['port', 'create', '--network', evilNet, '--name', 'squat', '--host', 'hv2', '--device', 'fw-2', '--fixed-ip', `subnet=${evilSubnet},ip=${FW2}`]);
    // Both gateways saw the port (they log the refused claim), and nothing moved.
    for (const g of lab.gateways) {
      await waitFor(async () => g.output().includes('appliance address claimed by several ports'), { ...WAIT, message: `${g.name} saw the conflicting claim` });
    }
    // FRR derives the epoch from its uptime counter: it may read one second apart; a reset would move it by the test's duration.
    expect(Math.abs((await fw2Since()) - since)).toBeLessThanOrEqual(1);
    await fw2Intact();
    // The fabric's host route to the address stays with fw-2's hypervisor.
    expect(await lab.torKernel(FW2)).toContain(`via ${HV.hv1}`);
    const adverts = await lab.admin<{ items: { prefix: string; nextHop: string }[] }>(['bgp', 'advertisement', 'list']);
    expect(adverts.items.find((a) => a.prefix === `${FW2}/32`)?.nextHop).toBe(HV.hv1);
  });
});
