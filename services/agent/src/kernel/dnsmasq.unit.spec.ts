import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DhcpSpec } from '../core/desired.js';
import { DnsmasqManager, dnsmasqPaths, renderConfig, renderHosts, type ProcessControl } from './dnsmasq.js';
import type { Exec } from './exec.js';

const spec = (hosts: DhcpSpec['hosts'] = [{ mac: '02:00:00:00:00:01', ips: ['10.0.0.5'] }]): DhcpSpec => ({
  ns: 'p-d0123456789ab',
  domainId: 'r1',
  interfaces: ['qr100'],
  subnets: [{ tag: 'n100s0', iface: 'qr100', network: '10.0.0.0', netmask: '255.255.255.0', router: '10.0.0.1', mtu: 1450, leaseSeconds: 86400, dnsServers: [], classlessRoutes: [] }],
  hosts,
});

describe('dnsmasq config', () => {
  it('renders static-only DHCP bound to the gateway interfaces, no DNS', () => {
    const conf = renderConfig(spec(), dnsmasqPaths('/s', 'p-d0123456789ab'));
    expect(conf.split('\n').slice(1)).toEqual([
      'port=0',
      'no-resolv',
      'no-hosts',
      'bind-interfaces',
      'interface=qr100',
      'user=root',
      'dhcp-authoritative',
      'dhcp-ignore=tag:!known',
      'log-dhcp',
      'log-facility=/s/dnsmasq/p-d0123456789ab.log',
      'pid-file=/s/dnsmasq/p-d0123456789ab.pid',
      'dhcp-leasefile=/s/dnsmasq/p-d0123456789ab.leases',
      'dhcp-hostsfile=/s/dnsmasq/p-d0123456789ab.hosts',
      'dhcp-range=set:n100s0,10.0.0.0,static,255.255.255.0,86400',
      'dhcp-option=tag:n100s0,option:router,10.0.0.1',
      'dhcp-option=tag:n100s0,option:mtu,1450',
      '',
    ]);
    expect(renderHosts(spec())).toBe('02:00:00:00:00:01,10.0.0.5\n');
  });

  it("renders a subnet's DNS servers (option 6) and host routes (option 121, the default route last)", () => {
    const s = spec();
    s.subnets[0] = {
      ...s.subnets[0]!,
      dnsServers: ['192.0.2.53', '192.0.2.54'],
      classlessRoutes: [
        { destination: '172.16.0.0/12', nexthop: '10.0.0.254' },
        { destination: '0.0.0.0/0', nexthop: '10.0.0.1' },
      ],
    };
    const options = renderConfig(s, dnsmasqPaths('/s', s.ns))
      .split('\n')
      .filter((l) => l.startsWith('dhcp-option='));
    expect(options).toEqual([
      'dhcp-option=tag:n100s0,option:router,10.0.0.1',
      'dhcp-option=tag:n100s0,option:mtu,1450',
      'dhcp-option=tag:n100s0,option:dns-server,192.0.2.53,192.0.2.54',
      'dhcp-option=tag:n100s0,option:classless-static-route,172.16.0.0/12,10.0.0.254,0.0.0.0/0,10.0.0.1',
    ]);
  });
});

describe('DnsmasqManager', () => {
  let dir: string;
  let live: Map<number, string>;
  /** PIDs whose namespace is no longer the one with the domain's name. */
  let elsewhere: Set<number>;
  let signals: [number, string][];
  let spawned: string[][];
  let nextPid: number;

  const proc: ProcessControl = {
    alive: (pid, marker) => live.has(pid) && (live.get(pid) ?? '').includes(marker),
    inNamespace: (pid) => !elsewhere.has(pid),
    signal: (pid, sig) => {
      signals.push([pid, sig]);
      if (sig === 'SIGTERM' || sig === 'SIGKILL') live.delete(pid);
    },
    sleep: async () => undefined,
  };
  const exec: Exec = {
    run: async () => ({ stdout: '', stderr: '', code: 0 }),
    spawnDetached: (argv) => {
      spawned.push([...argv]);
      const pid = nextPid++;
      const conf = argv.find((a) => a.startsWith('--conf-file='))!.slice('--conf-file='.length);
      live.set(pid, argv.join(' '));
      // dnsmasq writes its PID file once ready.
      writeFileSync(conf.replace(/\.conf$/, '.pid'), `${pid}\n`);
      return pid;
    },
    watch: () => ({ stop: () => undefined }),
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-dnsmasq-'));
    live = new Map();
    elsewhere = new Set();
    signals = [];
    spawned = [];
    nextPid = 1000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const manager = (): DnsmasqManager => new DnsmasqManager({ exec, stateDir: dir, nsPrefix: 'p-', proc });

  it('starts one server per domain inside its namespace, then leaves it alone while nothing changes', async () => {
    const m = manager();
    await m.sync({ [spec().ns]: spec() });
    expect(spawned).toEqual([['ip', 'netns', 'exec', 'p-d0123456789ab', '/usr/sbin/dnsmasq', '--keep-in-foreground', `--conf-file=${dnsmasqPaths(dir, spec().ns).conf}`]]);
    await m.sync({ [spec().ns]: spec() });
    expect(spawned).toHaveLength(1);
    expect(signals).toEqual([]);
    expect(m.running()).toEqual({ [spec().ns]: 1000 });
  });

  it('sends SIGHUP when only the static leases changed, restarts when the config changed', async () => {
    const m = manager();
    await m.sync({ [spec().ns]: spec() });
    const more = spec([...spec().hosts, { mac: '02:00:00:00:00:02', ips: ['10.0.0.6'] }]);
    await m.sync({ [more.ns]: more });
    expect(signals).toEqual([[1000, 'SIGHUP']]);
    expect(readFileSync(dnsmasqPaths(dir, more.ns).hosts, 'utf8')).toContain('02:00:00:00:00:02,10.0.0.6');
    const mtu = { ...more, subnets: [{ ...more.subnets[0]!, mtu: 1400 }] };
    await m.sync({ [mtu.ns]: mtu });
    expect(signals).toEqual([[1000, 'SIGHUP'], [1000, 'SIGTERM']]);
    expect(spawned).toHaveLength(2);
  });

  it('restarts a server that died, adopts a running one after an agent restart', async () => {
    await manager().sync({ [spec().ns]: spec() });
    await manager().sync({ [spec().ns]: spec() });
    expect(spawned).toHaveLength(1);
    live.clear();
    await manager().sync({ [spec().ns]: spec() });
    expect(spawned).toHaveLength(2);
  });

  it("replaces a server left in a namespace that lost its name (a new namespace of that name was made)", async () => {
    const m = manager();
    await m.sync({ [spec().ns]: spec() });
    elsewhere.add(1000);
    await m.sync({ [spec().ns]: spec() });
    expect(signals).toEqual([[1000, 'SIGTERM']]);
    expect(spawned).toHaveLength(2);
    expect(m.running()).toEqual({ [spec().ns]: 1001 });
  });

  it('stops servers of domains that are gone, by PID, and removes their files', async () => {
    const m = manager();
    await m.sync({ [spec().ns]: spec() });
    await m.stopStale({});
    expect(signals).toEqual([[1000, 'SIGTERM']]);
    expect(m.running()).toEqual({});
  });

  it('does not signal a PID that is not our dnsmasq any more (PID reuse)', async () => {
    const m = manager();
    await m.sync({ [spec().ns]: spec() });
    live.set(1000, '/usr/bin/something-else');
    await m.stopStale({});
    expect(signals).toEqual([]);
  });
});
