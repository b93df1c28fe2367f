import { describe, expect, it } from 'vitest';
import type { GatewayMacsObservation } from '@strata/contracts';
import type { Exec } from '../kernel/exec.js';
import { emptySnapshot, type HostViewSnapshot } from '../core/snapshot.js';
import { GatewayMacsWatcher } from './gateway-macs-watcher.js';

/** The publish policy only (what is read is gateway-macs.unit.spec.ts; the kernel, direct-connect.int.spec.ts): canned command output. */
function setup() {
  let fdb: object[] = [];
  const runs: string[][] = [];
  const exec = {
    run: async (argv: readonly string[]) => {
      runs.push([...argv]);
      return { code: 0, stderr: '', stdout: JSON.stringify(argv[0] === 'bridge' ? fdb : []) };
    },
  } as unknown as Exec;
  const view: HostViewSnapshot = emptySnapshot();
  const published: GatewayMacsObservation[] = [];
  const w = new GatewayMacsWatcher({ hostId: 'gw1', exec, nsPrefix: 'st-', view: () => view, publish: (o) => published.push(o), republishMs: 3_600_000, deviceOf: () => 'trunk0' });
  return { w, view, published, runs, setFdb: (f: object[]) => (fdb = f) };
}

describe('the gateway-MAC watcher', () => {
  it('reads nothing without bindings; publishes on change only (and when due); once more, empty, when the last binding went', async () => {
    const { w, view, published, runs, setFdb } = setup();
    await w.poll();
    expect(runs).toEqual([]);
    view.networks['n1'] = { id: 'n1', tenant: 't', vni: 100, mtu: 1450, subnets: [], domainId: 'd1', gatewayMac: '02:00:00:00:00:01', floodVteps: [] } as HostViewSnapshot['networks'][string];
    view.l2gateways['b1'] = { id: 'b1', networkId: 'n1', nic: 'trunk0', vlan: 100 };
    await w.poll();
    await w.poll();
    expect(published).toEqual([{ hostId: 'gw1', bindings: [{ bindingId: 'b1', macs: [] }] }]);
    setFdb([{ mac: '02:cc:00:00:00:50', ifname: 'trunk0', master: 'sbr100', flags: [], state: '' }]);
    await w.poll();
    expect(published.at(-1)).toEqual({ hostId: 'gw1', bindings: [{ bindingId: 'b1', macs: [{ mac: '02:cc:00:00:00:50', ips: [] }] }] });
    delete view.l2gateways['b1'];
    await w.poll();
    await w.poll();
    expect(published).toHaveLength(3);
    expect(published.at(-1)).toEqual({ hostId: 'gw1', bindings: [] });
  });
});
