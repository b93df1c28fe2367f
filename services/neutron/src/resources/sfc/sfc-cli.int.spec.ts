/**
 * The stock `openstack sfc …` CLI (Debian's python3-neutronclient OSC
 * plugin) against Strata: a real Keystone whose catalog lists the Neutron
 * service as `network`, the Neutron service validating Keystone tokens, the
 * production control plane behind it. Password authentication, no endpoint
 * override, `-f json` output checked: every networking-sfc resource
 * created, shown and listed by name and by id, updated, deleted; a name two
 * resources share gives the CLI's own "Multiple … matches" error, an
 * unknown id its "Unable to find"; Strata's refusals reach the user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeystoneValidator, keystoneValidatorConfigSchema } from '@strata/identity';
import { ChainingClient, IpamClient, type Principal } from '@strata/lab';
import { CommandSigner, createLogger } from '@strata/runtime';
import { startKeystone, type KeystoneHandle, type ProjectUser } from '@strata/testing';
import { startNeutronServer, type NeutronServer } from '../../server.js';
import { startNeutronStack, type NeutronStack } from '../../test/stack.js';

const MISSING = '00000000-0000-4000-8000-00000000dead';
/** Each CLI run starts Python and authenticates: seconds each on a loaded machine. */
const CLI_TEST_MS = 900_000;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('openstack sfc … against Strata and Keystone', () => {
  let keystone: KeystoneHandle;
  let stack: NeutronStack;
  let validator: KeystoneValidator;
  let neutron: NeutronServer;
  let alice: ProjectUser;
  let home: string;
  const ids: Record<string, string> = {};

  /** The CLI as a user runs it: OS_* password authentication, the endpoint from Keystone's catalog. */
  const cli = (args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      const env = {
        PATH: '/usr/bin:/bin',
        LANG: 'C.UTF-8',
        HOME: home,
        OS_AUTH_URL: `${keystone.url}/v3`,
        OS_IDENTITY_API_VERSION: '3',
        OS_USERNAME: alice.user.name,
        OS_PASSWORD: alice.password,
        OS_PROJECT_NAME: alice.project.name,
        OS_USER_DOMAIN_NAME: 'Default',
        OS_PROJECT_DOMAIN_NAME: 'Default',
        OS_INTERFACE: 'public',
      };
      execFile('/usr/bin/openstack', args, { env, timeout: 120_000 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      });
    });
  /** A command that must succeed with `-f json`: its parsed output. */
  const json = async (...args: string[]): Promise<any> => {
    const r = await cli([...args, '-f', 'json']);
    expect(r.code, `openstack ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout);
  };
  /** A command that must fail: what the CLI printed. */
  const fails = async (...args: string[]): Promise<string> => {
    const r = await cli(args);
    expect(r.code, `openstack ${args.join(' ')} succeeded: ${r.stdout}`).not.toBe(0);
    return r.stderr;
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'strata-sfc-cli-'));
    [keystone, stack] = await Promise.all([startKeystone(), startNeutronStack({ agents: ['hv1', 'hv2'] })]);
    const svc = await keystone.createServiceUser('neutron');
    validator = new KeystoneValidator(keystoneValidatorConfigSchema.parse({ url: keystone.url, serviceUser: svc.user.name, servicePassword: svc.password })).start();
    neutron = await startNeutronServer({
      nc: await stack.connectAs('neutron'),
      signer: new CommandSigner(stack.controlPlane.commandKeys.signingKey),
      validator,
      listen: '127.0.0.1:0',
      logger: createLogger('neutron', 'warn'),
      wwwAuthenticateUri: keystone.url,
    });
    await keystone.registerService('network', 'neutron', neutron.url);
    alice = await keystone.createProjectUser('sfc-demo', 'alice', 'member');

    // The appliances' network, subnet and ports through the same CLI; the router straight through IPAM's contract.
    ids.net = (await json('network', 'create', 'sfc-net')).id;
    ids.subnet = (await json('subnet', 'create', '--network', 'sfc-net', '--subnet-range', '10.0.0.0/24', 'sfc-subnet')).id;
    ids.fw1 = (await json('port', 'create', '--network', 'sfc-net', 'fw1')).id;
    ids.fw2 = (await json('port', 'create', '--network', 'sfc-net', 'fw2')).id;
    const nc = await stack.connectAs('api');
    const signer = new CommandSigner(stack.controlPlane.commandKeys.signingKey);
    const ipam = new IpamClient(nc, 15_000, undefined, signer);
    const a: Principal = { tenant: alice.project.id, admin: false };
    ids.router = (await ipam.command('router.create', { name: 'r' }, a)).id;
    await ipam.command('router.addInterface', { id: ids.router, subnetId: ids.subnet }, a);
    // Chaining decides against IPAM's routers: wait until it has applied this one.
    await new ChainingClient(nc, 15_000, ipam.seq, signer).query('function.list', {}, a);
  }, CLI_TEST_MS);

  afterAll(async () => {
    await neutron?.stop();
    await validator?.stop();
    await stack?.stop();
    await keystone?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('port pairs: create, show and list by name and by id, set, and the CLI\'s own lookups', async () => {
    const pp1 = await json('sfc', 'port', 'pair', 'create', '--ingress', 'fw1', '--egress', 'fw1', '--description', 'first', 'pp1');
    expect(pp1).toMatchObject({ Name: 'pp1', 'Ingress Logical Port': ids.fw1, 'Egress Logical Port': ids.fw1, Description: 'first', 'Service Function Parameters': { correlation: null, weight: 1 } });
    ids.pp1 = pp1.ID;
    ids.pp2 = (await json('sfc', 'port', 'pair', 'create', '--ingress', ids.fw2!, '--egress', ids.fw2!, '--service-function-parameters', 'correlation=None,weight=1', 'pp2')).ID;
    expect((await json('sfc', 'port', 'pair', 'show', 'pp1')).ID).toBe(ids.pp1);
    expect((await json('sfc', 'port', 'pair', 'show', ids.pp2!)).Name).toBe('pp2');
    const list = await json('sfc', 'port', 'pair', 'list');
    expect(list.map((p: { ID: string; Name: string }) => [p.Name, p.ID]).sort()).toEqual([['pp1', ids.pp1], ['pp2', ids.pp2]].sort());
    expect((await cli(['sfc', 'port', 'pair', 'set', '--name', 'pp-one', 'pp1'])).code).toBe(0);
    expect(await json('sfc', 'port', 'pair', 'show', ids.pp1!)).toMatchObject({ Name: 'pp-one', revision_number: 2 });
    expect(await fails('sfc', 'port', 'pair', 'create', '--ingress', 'fw1', '--egress', 'fw1', '--service-function-parameters', 'correlation=mpls', 'pp3')).toContain('without MPLS or NSH');
    expect(await fails('sfc', 'port', 'pair', 'show', MISSING)).toContain(`Unable to find port_pair with name or id '${MISSING}'`);
  }, CLI_TEST_MS);

  it('port pair groups, flow classifiers and port chains: the whole chain by the CLI', async () => {
    const ppg = await json('sfc', 'port', 'pair', 'group', 'create', '--port-pair', 'pp-one', '--port-pair', 'pp2', 'fws');
    expect(ppg).toMatchObject({ Name: 'fws', 'Port Pair': [ids.pp1, ids.pp2], 'Tap Enabled': false, 'Port Pair Group Parameters': { lb_fields: [] } });
    ids.ppg = ppg.ID;

    const fc = await json('sfc', 'flow', 'classifier', 'create', '--protocol', 'tcp', '--destination-ip-prefix', '10.0.1.0/24', '--destination-port', '80:80', 'web');
    expect(fc).toMatchObject({ Name: 'web', Protocol: 'tcp', Ethertype: 'IPv4', 'Destination IP': '10.0.1.0/24', 'Destination Port Range Min': 80, 'Destination Port Range Max': 80 });
    ids.fc = fc.ID;

    const pc = await json('sfc', 'port', 'chain', 'create', '--port-pair-group', 'fws', '--flow-classifier', 'web', '--chain-parameters', 'symmetric=true', 'web-chain');
    expect(pc).toMatchObject({ Name: 'web-chain', 'Port Pair Groups': [ids.ppg], 'Flow Classifiers': [ids.fc], 'Chain Parameters': { correlation: null, symmetric: true } });
    ids.pc = pc.ID;
    expect((await json('sfc', 'port', 'chain', 'show', 'web-chain')).ID).toBe(ids.pc);
    expect((await json('sfc', 'port', 'chain', 'list')).map((c: { ID: string }) => c.ID)).toEqual([ids.pc]);
    expect(await fails('sfc', 'port', 'chain', 'create', '--port-pair-group', 'fws', '--flow-classifier', 'web', 'again')).toContain('already takes the flows');

    // Updates as the CLI does them: a group's pairs replaced, a chain's classifiers added.
    expect((await cli(['sfc', 'port', 'pair', 'group', 'set', '--no-port-pair', '--port-pair', 'pp2', 'fws'])).code).toBe(0);
    expect((await json('sfc', 'port', 'pair', 'group', 'show', 'fws'))['Port Pair']).toEqual([ids.pp2]);
    ids.fc2 = (await json('sfc', 'flow', 'classifier', 'create', '--protocol', 'udp', '--destination-ip-prefix', '10.0.1.0/24', 'dns')).ID;
    expect((await cli(['sfc', 'port', 'chain', 'set', '--flow-classifier', 'dns', 'web-chain'])).code).toBe(0);
    expect((await json('sfc', 'port', 'chain', 'show', ids.pc!))['Flow Classifiers']).toEqual([ids.fc, ids.fc2]);
    expect((await cli(['sfc', 'flow', 'classifier', 'set', '--description', 'web traffic', 'web'])).code).toBe(0);
    expect((await json('sfc', 'flow', 'classifier', 'show', 'web')).Description).toBe('web traffic');
  }, CLI_TEST_MS);

  it('a shared name is the CLI\'s "Multiple … matches"; what is in use is not deleted; then everything is', async () => {
    const d1 = (await json('sfc', 'flow', 'classifier', 'create', '--protocol', 'icmp', 'dup')).ID;
    const d2 = (await json('sfc', 'flow', 'classifier', 'create', '--protocol', 'udp', 'dup')).ID;
    expect(await fails('sfc', 'flow', 'classifier', 'show', 'dup')).toContain("Multiple flow_classifier matches found for name 'dup', use an ID to be more specific.");
    for (const id of [d1, d2]) expect((await cli(['sfc', 'flow', 'classifier', 'delete', id])).code).toBe(0);

    expect(await fails('sfc', 'port', 'pair', 'delete', 'pp2')).toMatch(/Failed to delete port pair with name or ID 'pp2': .*group/);
    expect(await fails('sfc', 'port', 'pair', 'group', 'delete', 'fws')).toContain(ids.pc);
    expect(await fails('sfc', 'flow', 'classifier', 'delete', 'web')).toContain(ids.pc);

    for (const args of [
      ['port', 'chain', 'delete', 'web-chain'],
      ['port', 'pair', 'group', 'delete', 'fws'],
      ['port', 'pair', 'delete', 'pp-one'],
      ['port', 'pair', 'delete', 'pp2'],
      ['flow', 'classifier', 'delete', 'web'],
      ['flow', 'classifier', 'delete', 'dns'],
    ]) {
      const r = await cli(['sfc', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    for (const kind of [['port', 'pair'], ['port', 'pair', 'group'], ['flow', 'classifier'], ['port', 'chain']]) expect(await json('sfc', ...kind, 'list')).toEqual([]);
  }, CLI_TEST_MS);
});
