/**
 * Fault under load: an appliance neighbour is removed (its port deleted)
 * and re-created while the appliance sends ~200 updates/s of /32s outside
 * its assigned range.
 *
 * Guards issue 12, defect 4: the gateway changed the import policy before
 * deleting the peer; under 100–300 updates/s, 2 of 5 removals let an
 * out-of-range /32 into both gobgpds' global RIBs for ~34 ms, and once into
 * the fabric. Here both gateways' global RIBs are watched (WatchEvent BEST,
 * every change) and the ToR's BGP table and kernel polled throughout five
 * removals; no out-of-range prefix may ever appear. The watch of the
 * pre-policy Adj-RIB-In proves the load really reached the gateways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPLIANCE_AS, gwInSubnet, sh } from '@strata/lab';
import { waitFor } from '@strata/testing';
import { applianceKey } from '@strata/bgp-gateway';
import { BgpHostileLab, GROUP_SECRET, WAIT } from './support/bgp-lab.js';
import { gobgpStub, GobgpSpeaker, watchTable } from './support/gobgp-speaker.js';

const FW = '198.19.1.10';
/** Out of the assigned 198.51.100.128/29: must never be imported. */
const CHURN = Array.from({ length: 20 }, (_, i) => `192.0.2.${i + 1}/32`);
const REMOVALS = 5;

describe('hostile: removing an appliance neighbour under update load never opens the import filter', () => {
  const lab = new BgpHostileLab();
  let speaker: GobgpSpeaker;
  let portId: string;

  beforeAll(async () => {
    await lab.start(['tenant-a']);
    await lab.assignPrefix('198.51.100.128/29', 'fw-1');
    portId = (await lab.as<{ id: string }>('tenant-a', ['port', 'create', '--network', lab.ids.appNetwork, '--name', 'fw-1', '--host', 'hv1', '--device', 'fw-1', '--fixed-ip', `subnet=${lab.ids.appSubnet1},ip=${FW}`])).id;
    speaker = await GobgpSpeaker.start(lab.fabric, 'app1', FW, APPLIANCE_AS, gwInSubnet(1), applianceKey(GROUP_SECRET, 'tenant-a', 'fw-1'));
    await waitFor(async () => (await speaker.established()) === 2, { ...WAIT, message: 'the appliance peers with both gateways' });
  });

  afterAll(async () => {
    await speaker?.stop().catch(() => undefined);
    await lab.stop();
  });

  const gatewayPeers = async (gw: number): Promise<string[]> => {
    const stub = gobgpStub(lab.fabric.socket(gw));
    try {
      const out: string[] = [];
      for await (const r of stub.ListPeer({}, { deadline: new Date(Date.now() + 10_000) })) out.push((r as { peer: { conf: { neighbor_address: string } } }).peer.conf.neighbor_address);
      return out;
    } finally {
      stub.close();
    }
  };

  it(`${REMOVALS} removals while ~200 updates/s of out-of-range /32s arrive: none in either global RIB, none at the ToR`, async () => {
    const leaks: string[] = [];
    let prePolicy = 0;
    const inChurn = (prefix: string): boolean => prefix.startsWith('192.0.2.');
    const stubs = [1, 2].map((gw) => gobgpStub(lab.fabric.socket(gw)));
    const streams = stubs.flatMap((stub, i) => [
      watchTable(stub, 'BEST', (prefix, withdraw) => {
        if (inChurn(prefix) && !withdraw) leaks.push(`gobgpd ${i + 1} global RIB: ${prefix} at ${new Date().toISOString()}`);
      }),
      watchTable(stub, 'ADJIN', (prefix) => {
        if (inChurn(prefix)) prePolicy++;
      }),
    ]);
    let running = true;
    let sent = 0;
    const churn = (async () => {
      for (let med = 1; running; med++) {
        const batch = CHURN.slice((med % 2) * 10, (med % 2) * 10 + 10);
        await speaker.send(batch, med).catch(() => undefined);
        sent += batch.length;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const tor = (async () => {
      while (running) {
        const bgp = await lab.fabric.tor.json<{ routes?: Record<string, unknown> }>('show bgp ipv4 unicast 192.0.2.0/24 longer-prefixes json');
        for (const p of Object.keys(bgp.routes ?? {})) leaks.push(`ToR BGP table: ${p}`);
        const kernel = (await sh(['ip', '-n', lab.fabric.ns('tor'), 'route', 'show', 'root', '192.0.2.0/24'])).trim();
        if (kernel !== '') leaks.push(`ToR kernel: ${kernel}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const started = Date.now();
    try {
      await waitFor(async () => prePolicy > 100, { ...WAIT, message: 'the churn reaches the gateways (pre-policy)' });
      for (let i = 0; i < REMOVALS; i++) {
        await lab.as('tenant-a', ['port', 'delete', portId]);
        await waitFor(async () => !(await gatewayPeers(1)).includes(FW) && !(await gatewayPeers(2)).includes(FW), { ...WAIT, message: `removal ${i + 1}: peer gone from both gobgpds` });
        portId = (await lab.as<{ id: string }>('tenant-a', ['port', 'create', '--network', lab.ids.appNetwork, '--name', 'fw-1', '--host', 'hv1', '--device', 'fw-1', '--fixed-ip', `subnet=${lab.ids.appSubnet1},ip=${FW}`])).id;
        await waitFor(async () => (await speaker.established()) === 2, { ...WAIT, message: `removal ${i + 1}: the appliance back with both gateways` });
        const before = prePolicy;
        await waitFor(async () => prePolicy > before + 50, { ...WAIT, message: `removal ${i + 1}: the churn flows again` });
      }
    } finally {
      running = false;
      await Promise.all([churn, tor]);
      for (const s of streams) s.cancel();
      for (const s of stubs) s.close();
    }
    const rate = sent / ((Date.now() - started) / 1000);
    console.log(`churn: ${sent} routes sent, ${Math.round(rate)}/s; ${prePolicy} pre-policy observations at the gateways`);
    expect(rate).toBeGreaterThan(0);
    expect(leaks).toEqual([]);
  });
});
