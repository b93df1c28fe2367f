/**
 * IPv6 application prefixes end to end: an FRR appliance announces /64s
 * over its (IPv4) sessions with both gateways; exactly the /64 inside its
 * assigned IPv6 range is accepted, advertised to the ToR and installed in
 * its kernel, and every other IPv6 announcement is refused and stays out of
 * the fabric.
 *
 * Guards issue 12, "Also": gobgpd offered appliances only IPv4 unicast, so
 * an IPv6 /64 application prefix could never be accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { underlay6 } from '@strata/lab';
import { waitFor } from '@strata/testing';
import { BgpHostileLab, HV, WAIT } from './support/bgp-lab.js';

const ASSIGNED = '2001:db8:100:1::/64';
const ANNOUNCED = {
  [ASSIGNED]: 'learned',
  '2001:db8:100:2::/64': 'outside-assigned-range',
  '2001:db8:100:1::/80': 'prefix-length',
  '2001:db8:100::/56': 'prefix-length',
} as const;
const FW = '198.19.1.20';
/** hv1's VTEP embedded in the underlay's IPv6 /96 (BGP_IPV6_NEXTHOP_PREFIX): 2001:db8:ffff::c612:b. */
const HV1_V6 = underlay6(HV.hv1);

describe('an appliance announces IPv6 /64s over BGP', () => {
  const lab = new BgpHostileLab();

  beforeAll(async () => {
    await lab.start(['tenant-a']);
    const pool = await lab.admin<{ id: string }>(['pool', 'create', '--name', 'app6', '--cidr', '2001:db8:100::/56', '--purpose', 'application-prefix']);
    const ap = await lab.admin<{ id: string }>(['appprefix', 'create', '--pool', pool.id, '--prefix', ASSIGNED, '--tenant', 'tenant-a']);
    await lab.admin(['bgp', 'appliance', 'assign', '--prefix', ap.id, '--device', 'fw-6']);
    await lab.appliance('app6', 'fw-6', FW, 'hv1', Object.keys(ANNOUNCED));
  });

  afterAll(async () => {
    await lab.stop();
  });

  const torKernel6 = (prefix: string): Promise<string> => lab.torKernel6(prefix);
  const torPaths6 = async (prefix: string): Promise<{ nexthops: { ip: string }[] }[]> =>
    (await lab.fabric.tor.json<{ paths?: { nexthops: { ip: string }[] }[] }>(`show bgp ipv6 unicast ${prefix} json`)).paths ?? [];

  it('accepts exactly the assigned /64 and refuses the rest, with reasons', async () => {
    // Accepted routes are recorded in the log; refusals are counted and logged by each gateway (not recorded).
    const refused = Object.entries(ANNOUNCED).filter(([, status]) => status !== 'learned');
    await waitFor(async () => refused.every(([prefix, reason]) => lab.refusalLogged(FW, prefix, reason)), { ...WAIT, message: 'every refused IPv6 announcement logged by both gateways' });
    await waitFor(async () => (await lab.routes()).some((r) => r.peer === FW && r.status === 'learned'), { ...WAIT, message: 'the assigned /64 recorded' });
    const recorded = (await lab.routes()).filter((r) => r.peer === FW).map((r) => [r.prefix, r.status]);
    expect(recorded).toEqual([[ASSIGNED, 'learned']]);
  });

  it("the accepted /64 reaches the ToR from both gateways via the appliance's hypervisor (its VTEP in the underlay's IPv6 /96), and its kernel", async () => {
    await waitFor(async () => (await torPaths6(ASSIGNED)).length === 2, { ...WAIT, message: 'the /64 at the ToR from both gateways' });
    for (const p of await torPaths6(ASSIGNED)) expect(p.nexthops.map((n) => n.ip)).toContain(HV1_V6);
    await waitFor(async () => (await torKernel6(ASSIGNED)) !== '', { ...WAIT, message: 'the /64 in the ToR kernel' });
    expect(await torKernel6(ASSIGNED)).toContain(`via ${HV1_V6}`);
    for (const refused of Object.keys(ANNOUNCED).filter((p) => p !== ASSIGNED)) {
      expect(await torPaths6(refused), refused).toEqual([]);
      expect(await torKernel6(refused), refused).toBe('');
    }
  });
});
