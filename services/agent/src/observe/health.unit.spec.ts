import type { ChainMember, HealthCheck } from '@strata/contracts';
import { describe, expect, it } from 'vitest';
import { domainNamespace } from '../core/names.js';
import { emptySnapshot, type HostViewSnapshot } from '../core/snapshot.js';
import { healthTargets, probeArgv } from './health.js';

const R = 'router-1';
const check: HealthCheck = { protocol: 'icmp', port: null, intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2 };

/** A router with one dual-stack network; appliances `f<n>` whose ingress port is local, with the given addresses. */
function view(members: [number, string[]][]): HostViewSnapshot {
  const v = emptySnapshot();
  v.domains[R] = { id: R, tenant: 't', kind: 'router', networkIds: ['svc'] };
  v.networks.svc = {
    id: 'svc',
    tenant: 't',
    vni: 102,
    mtu: 1450,
    subnets: [
      { id: 's4', ipVersion: 4, cidr: '10.0.3.0/24', gatewayIp: '10.0.3.1', enableDhcp: true },
      { id: 's6', ipVersion: 6, cidr: 'fd00:3::/64', gatewayIp: 'fd00:3::1', enableDhcp: false },
    ],
    domainId: R,
    gatewayMac: '02:53:47:00:00:01',
    floodVteps: [],
  };
  const ms: ChainMember[] = members.map(([n, ips]) => {
    const leg = { portId: `p${n}`, networkId: 'svc', mac: `02:00:00:00:03:0${n}`, ips };
    v.ports[`p${n}`] = { id: `p${n}`, tenant: 't', networkId: 'svc', mac: leg.mac, fixedIps: [], device: `tap${n}`, groupIds: [], portSecurity: false };
    return { functionId: `f${n}`, ingress: leg, egress: leg, healthy: true, healthCheck: check, virtualIp: null };
  });
  v.chains.c = { id: 'c', tenant: 't', domainId: R, symmetric: true, classifiers: [], hops: [{ groupId: 'g', mode: 'l3', selection: 'flow-hash', fallback: 'fail-closed', members: ms, activeFunctionId: null }] };
  return v;
}

describe('health targets', () => {
  it('probes a local appliance\'s IPv4 ingress address, or its IPv6 one when it has no routable IPv4 address', () => {
    const targets = healthTargets(view([[1, ['fd00:3::11', '10.0.3.11']], [2, ['fd00:3::12']], [3, ['192.0.2.1']]]), 'p-');
    expect(targets.map((t) => [t.functionId, t.ip])).toEqual([
      ['f1', '10.0.3.11'],
      ['f2', 'fd00:3::12'],
    ]);
    expect(probeArgv(targets[1]!)).toEqual(['ip', 'netns', 'exec', domainNamespace('p-', R), 'ping', '-n', '-q', '-c', '1', '-W', '0.500', 'fd00:3::12']);
  });
});
