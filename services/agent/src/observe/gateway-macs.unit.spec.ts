import { describe, expect, it } from 'vitest';
import { gatewayMacsReport, learnedMacs, neighbourIps } from './gateway-macs.js';

// As `bridge -j fdb show` and `ip -j neigh show` print them (iproute2 6.1).
const FDB = [
  { mac: '33:33:00:00:00:01', ifname: 'sglaaa', flags: ['self'], state: 'permanent' },
  { mac: '02:CC:00:00:00:50', ifname: 'sglaaa', flags: [], master: 'sbr100', state: '' },
  { mac: '02:cc:00:00:00:51', ifname: 'sglaaa', flags: [], master: 'sbr100', state: 'stale' },
  { mac: '1e:70:d8:2b:70:da', ifname: 'sglaaa', flags: [], master: 'sbr100', state: 'permanent' },
  { mac: '02:cc:00:00:00:52', ifname: 'sglaaa', flags: [], master: 'sbr100', state: 'static' },
  { mac: '01:00:5e:00:00:01', ifname: 'sglaaa', flags: [], master: 'sbr100', state: '' },
  { mac: '02:aa:00:00:01:11', ifname: 'svx100', flags: [], master: 'sbr100', state: '' },
  { mac: '02:dd:00:00:00:01', ifname: 'sglbbb', flags: [], master: 'sbr200', state: '' },
];
const NEIGH = [
  { dst: '10.0.0.50', dev: 'qr100', lladdr: '02:cc:00:00:00:50', state: ['REACHABLE'] },
  { dst: 'fd00::50', dev: 'qr100', lladdr: '02:cc:00:00:00:50', router: null, state: ['STALE'] },
  { dst: 'fe80::cc:ff:fe00:50', dev: 'qr100', lladdr: '02:cc:00:00:00:50', state: ['STALE'] },
  { dst: '10.0.0.51', dev: 'qr100', state: ['INCOMPLETE'] },
  { dst: '10.0.0.52', dev: 'qr100', lladdr: '02:cc:00:00:00:51', state: ['FAILED'] },
  { dst: '10.1.0.11', dev: 'qr101', lladdr: '02:cc:00:00:00:51', state: ['REACHABLE'] },
];

describe('gateway MACs from the kernel\'s JSON', () => {
  it('takes what the bridge learned on the binding devices: not the device\'s own table, permanent or static entries, multicast, other ports', () => {
    expect(learnedMacs(FDB, new Set(['sglaaa']))).toEqual(new Map([['sglaaa', ['02:cc:00:00:00:50', '02:cc:00:00:00:51']]]));
    expect(learnedMacs('not json', new Set(['sglaaa']))).toEqual(new Map());
  });

  it('takes the resolved neighbours on the network\'s gateway interface, not unresolved, failed, link-local or other interfaces\'', () => {
    expect(neighbourIps(NEIGH, 'qr100')).toEqual(new Map([['02:cc:00:00:00:50', ['10.0.0.50', 'fd00::50']]]));
  });

  it('reports every binding (sorted, one without MACs empty), MACs with the IPs the domain resolved, none where the domain is not here', () => {
    const report = gatewayMacsReport(
      'hv2',
      [
        { bindingId: 'b2', device: 'sglccc', neighbours: null },
        { bindingId: 'b1', device: 'sglaaa', neighbours: { ns: 'st-dabc', dev: 'qr100' } },
        { bindingId: 'b3', device: 'sglbbb', neighbours: { ns: 'st-dmissing', dev: 'qr200' } },
      ],
      FDB,
      new Map([['st-dabc', NEIGH]]),
    );
    expect(report).toEqual({
      hostId: 'hv2',
      bindings: [
        { bindingId: 'b1', macs: [{ mac: '02:cc:00:00:00:50', ips: ['10.0.0.50', 'fd00::50'] }, { mac: '02:cc:00:00:00:51', ips: [] }] },
        { bindingId: 'b2', macs: [] },
        { bindingId: 'b3', macs: [{ mac: '02:dd:00:00:00:01', ips: [] }] },
      ],
    });
  });
});
