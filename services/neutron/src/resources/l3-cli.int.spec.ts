/**
 * The stock `openstack` CLI (Debian python3-openstackclient) against the
 * Neutron service on the real control plane, for the L3 commands a CMP
 * uses: an external network found by name, a router with a gateway named
 * by the pool's name, a subnet added, a floating IP created on the pool by
 * name and set on a port, shown and listed, then removed. The token is the
 * test token table's (`--os-auth-type admin_token`: no Keystone here; the
 * Keystone path is the identity tests' and the lab's).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestMeta } from '@strata/runtime';
import { startNeutronStack, type NeutronStack, type StackLogin } from '../test/stack.js';
import { NEUTRON_RESOURCES } from './index.js';

const run = promisify(execFile);
const OPENSTACK = '/usr/bin/openstack';

describe.skipIf(!existsSync(OPENSTACK))('the openstack CLI drives routers and floating IPs', () => {
  let stack: NeutronStack;
  let alice: StackLogin;

  const meta = (tenant: string, admin = false): RequestMeta => {
    const id = randomUUID();
    return { actor: 'test', tenant, admin, requestId: id, correlationId: id, at: new Date().toISOString() };
  };
  /** `openstack … -f json` as alice; the parsed output (undefined when the command prints nothing). */
  async function os(...args: string[]): Promise<any> {
    const { stdout } = await run('/usr/bin/python3', [OPENSTACK, '--os-auth-type', 'admin_token', '--os-token', alice.token, '--os-endpoint', stack.url, ...args], {
      env: { PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp' },
      timeout: 60_000,
    });
    return stdout.trim() === '' ? undefined : JSON.parse(stdout);
  }
  async function osFails(...args: string[]): Promise<string> {
    try {
      await os(...args);
    } catch (e) {
      return String((e as { stderr?: string }).stderr ?? e);
    }
    throw new Error(`openstack ${args.join(' ')} succeeded`);
  }

  beforeAll(async () => {
    // In this process: the test makes pools and ports through the server's own clients.
    stack = await startNeutronStack({ resources: NEUTRON_RESOURCES });
    alice = await stack.login('project-a', 'alice', 'member');
    await stack.server.clients.ipam.command('pool.create', { name: 'public', cidr: '203.0.113.0/24', purpose: 'floating-ip' }, meta('ops', true));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  // Each CLI run starts a Python interpreter with the client's plugins (seconds each on a loaded machine).
  it('router with a gateway on the pool by name, a subnet, a floating IP on a port; then removed', { timeout: 900_000 }, async () => {
    const ext = await os('network', 'show', 'public', '-f', 'json');
    expect(ext).toMatchObject({ name: 'public', 'router:external': true, shared: true });
    const net = await os('network', 'create', 'web', '-f', 'json');
    const subnet = await os('subnet', 'create', 'web-v4', '--network', 'web', '--subnet-range', '10.5.0.0/24', '-f', 'json');
    const port = await os('port', 'create', 'vm1', '--network', 'web', '-f', 'json');

    const router = await os('router', 'create', 'edge', '-f', 'json');
    expect(router).toMatchObject({ name: 'edge', status: 'ACTIVE' });
    await os('router', 'set', 'edge', '--external-gateway', 'public');
    await os('router', 'add', 'subnet', 'edge', 'web-v4');
    await os('router', 'set', 'edge', '--route', 'destination=192.0.2.0/24,gateway=10.5.0.9');
    const shown = await os('router', 'show', 'edge', '-f', 'json');
    expect(shown.external_gateway_info).toEqual({ network_id: ext.id, enable_snat: true, external_fixed_ips: [] });
    expect(shown.routes).toEqual([{ destination: '192.0.2.0/24', nexthop: '10.5.0.9' }]);
    expect((await os('router', 'list', '-f', 'json')).map((r: { Name: string }) => r.Name)).toContain('edge');
    expect(await osFails('router', 'show', 'nope')).toMatch(/No Router found for nope/);

    const fip = await os('floating', 'ip', 'create', 'public', '--port', 'vm1', '--description', 'web front', '-f', 'json');
    expect(fip).toMatchObject({ floating_network_id: ext.id, port_id: port.id, router_id: router.id, description: 'web front' });
    expect(fip.floating_ip_address).toMatch(/^203\.0\.113\./);
    const listed = await os('floating', 'ip', 'list', '--port', 'vm1', '-f', 'json');
    expect(listed.map((f: { ID: string }) => f.ID)).toEqual([fip.id]);
    await os('floating', 'ip', 'unset', '--port', fip.id);
    expect((await os('floating', 'ip', 'show', fip.id, '-f', 'json')).port_id).toBeNull();
    await os('floating', 'ip', 'set', '--port', 'vm1', fip.floating_ip_address);
    expect((await os('floating', 'ip', 'show', fip.floating_ip_address, '-f', 'json')).port_id).toBe(port.id);
    await os('floating', 'ip', 'delete', fip.id);
    expect(await osFails('floating', 'ip', 'show', fip.id)).toMatch(/No FloatingIP found for/);

    // In use while it has the subnet; then removed.
    expect(await osFails('router', 'delete', 'edge')).toMatch(/still joins|RouterInUse|409/);
    await os('router', 'unset', 'edge', '--route', 'destination=192.0.2.0/24,gateway=10.5.0.9');
    await os('router', 'remove', 'subnet', 'edge', 'web-v4');
    await os('router', 'unset', 'edge', '--external-gateway');
    expect((await os('router', 'show', 'edge', '-f', 'json')).external_gateway_info).toBeNull();
    await os('router', 'delete', 'edge');
    expect(net.id).toBeTruthy();
    expect(subnet.id).toBeTruthy();
  });
});
