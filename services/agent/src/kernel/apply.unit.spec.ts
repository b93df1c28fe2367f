import { describe, expect, it } from 'vitest';
import type { Batch, LinkState, Plan } from '../core/types.js';
import { ApplyError, applyPlan, batchInvocations } from './apply.js';
import type { Exec, ExecResult } from './exec.js';
import { renderOp } from './render.js';

const link = (over: Partial<LinkState>): LinkState => ({
  ns: '', name: 'x', kind: 'bridge', mtu: 1450, up: true, master: null, alias: 'strata:bridge:n1', mac: null, vxlan: null, peer: null, brport: null, ...over,
});

/** Records every invocation; fails the ones `fail` matches. */
function fakeExec(fail: (argv: readonly string[]) => boolean = () => false): Exec & { calls: { argv: string[]; input?: string; host?: boolean }[] } {
  const calls: { argv: string[]; input?: string; host?: boolean }[] = [];
  const result = (argv: readonly string[]): ExecResult => (fail(argv) ? { stdout: '', stderr: 'RTNETLINK answers: File exists', code: 2 } : { stdout: '', stderr: '', code: 0 });
  return {
    calls,
    run: async (argv, input) => (calls.push({ argv: [...argv], ...(input ? { input } : {}) }), result(argv)),
    runHost: async (argv, input) => (calls.push({ argv: [...argv], ...(input ? { input } : {}), host: true }), result(argv)),
    spawnDetached: () => 1,
    watch: () => ({ stop: () => undefined }),
  };
}

describe('render', () => {
  it('creates a vxlan down, sets its bridge-port flags, then brings it up', () => {
    const cmds = renderOp({
      op: 'link-add',
      link: link({ name: 'svx100', kind: 'vxlan', master: 'sbr100', alias: 'strata:vxlan:n1', vxlan: { vni: 100, local: '198.18.0.11', port: 4789, learning: false }, brport: { learning: false, neighSuppress: true } }),
    });
    expect(cmds).toEqual([
      { tool: 'ip', ns: '', line: 'link add name svx100 mtu 1450 type vxlan id 100 local 198.18.0.11 dstport 4789 nolearning' },
      { tool: 'ip', ns: '', line: 'link set dev svx100 addrgenmode none' },
      { tool: 'ip', ns: '', line: 'link set dev svx100 down master sbr100 alias strata:vxlan:n1' },
      { tool: 'ip', ns: '', line: 'link set dev svx100 type bridge_slave learning off neigh_suppress on' },
      { tool: 'ip', ns: '', line: 'link set dev svx100 up' },
    ]);
  });

  it('creates a veth pair with its peer in the domain namespace', () => {
    const cmds = renderOp({
      op: 'link-add',
      link: link({ name: 'sgw100', kind: 'veth', master: 'sbr100', alias: 'strata:gateway:n1', peer: { ns: 'p-d1', name: 'qr100' } }),
      peer: link({ ns: 'p-d1', name: 'qr100', kind: 'veth', alias: 'strata:gateway:n1', mac: '02:53:47:00:00:64', peer: { ns: '', name: 'sgw100' } }),
    });
    expect(cmds.map((c) => ('line' in c ? `${c.ns || '-'}: ${c.line}` : 'script' in c ? c.script : c.argv.join(' ')))).toEqual([
      '-: link add name sgw100 mtu 1450 type veth peer name qr100 mtu 1450 address 02:53:47:00:00:64 netns p-d1',
      '-: link set dev sgw100 addrgenmode none',
      '-: link set dev sgw100 master sbr100 alias strata:gateway:n1 up',
      'p-d1: link set dev qr100 alias strata:gateway:n1 up',
    ]);
  });

  it('writes unicast FDB entries with replace (a learned entry must not make them fail) and sticky bridge entries', () => {
    expect(renderOp({ op: 'fdb-add', entry: { kind: 'bridge', master: 'sbr1', mac: '02:00:00:00:00:01', dev: 'sgw1' } })).toEqual([
      { tool: 'bridge', ns: '', line: 'fdb replace 02:00:00:00:00:01 dev sgw1 master static sticky' },
    ]);
    expect(renderOp({ op: 'fdb-add', entry: { kind: 'flood', dev: 'svx1', dst: '198.18.0.12' } })).toEqual([
      { tool: 'bridge', ns: '', line: 'fdb append 00:00:00:00:00:00 dev svx1 dst 198.18.0.12 self static' },
    ]);
    expect(renderOp({ op: 'addr-add', addr: { ns: 'n', dev: 'qr1', cidr: 'fd00::1/64' } })).toEqual([{ tool: 'ip', ns: 'n', line: 'addr add fd00::1/64 dev qr1 nodad' }]);
  });
});

describe('IPv6 policy routing', () => {
  it('runs IPv6 rules and routes through `ip -6` (a batch line cannot carry the option; `::/0` alone would be IPv4)', () => {
    const rule = { ns: 'p-d1', pref: 1000, fwmark: '0x53430001', table: 1396899841 };
    const batch: Batch = {
      phase: 'rules',
      ops: [
        { op: 'route-replace', entry: { ns: 'p-d1', dst: '0.0.0.0/0', dev: 'qr1', via: '10.0.0.7', table: 1396899841 } },
        { op: 'route-replace', entry: { ns: 'p-d1', dst: '::/0', dev: 'qr1', via: 'fd00::7', table: 1396899841 } },
        { op: 'rule-add', entry: { ...rule, family: 6 } },
        { op: 'rule-add', entry: { ...rule, family: 4 } },
      ],
    };
    expect(batchInvocations(batch)).toEqual([
      { argv: ['ip', '-n', 'p-d1', '-batch', '-'], input: 'route replace 0.0.0.0/0 via 10.0.0.7 dev qr1 proto 83 onlink table 1396899841\n' },
      {
        argv: ['ip', '-6', '-n', 'p-d1', '-batch', '-'],
        input: 'route replace ::/0 via fd00::7 dev qr1 proto 83 onlink table 1396899841\nrule add pref 1000 fwmark 0x53430001 lookup 1396899841 proto 83\n',
      },
      { argv: ['ip', '-n', 'p-d1', '-batch', '-'], input: 'rule add pref 1000 fwmark 0x53430001 lookup 1396899841 proto 83\n' },
    ]);
  });
});

describe('applyPlan', () => {
  const plan: Plan = {
    batches: [
      { phase: 'namespaces', ops: [{ op: 'ns-add', ns: 'p-d1' }] },
      { phase: 'sysctls', ops: [{ op: 'sysctl', ns: 'p-d1', key: 'net.ipv4.ip_forward', value: '1' }] },
      {
        phase: 'neighs',
        ops: [
          { op: 'neigh-replace', entry: { ns: '', dev: 'sbr1', ip: '10.0.0.2', mac: '02:00:00:00:00:02' } },
          { op: 'neigh-replace', entry: { ns: '', dev: 'sbr1', ip: '10.0.0.3', mac: '02:00:00:00:00:03' } },
          { op: 'neigh-replace', entry: { ns: 'p-d1', dev: 'qr1', ip: '10.0.0.2', mac: '02:00:00:00:00:02' } },
        ],
      },
    ],
  };

  it('batches consecutive lines per tool and namespace; namespaces are managed outside any netns wrapper', async () => {
    const exec = fakeExec();
    await applyPlan(exec, plan);
    expect(exec.calls).toEqual([
      { argv: ['ip', 'netns', 'add', 'p-d1'], host: true },
      { argv: ['ip', '-n', 'p-d1', '-batch', '-'], input: 'link set dev lo up\n' },
      { argv: ['ip', 'netns', 'exec', 'p-d1', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'] },
      { argv: ['ip', '-batch', '-'], input: 'neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev sbr1 nud permanent\nneigh replace 10.0.0.3 lladdr 02:00:00:00:00:03 dev sbr1 nud permanent\n' },
      { argv: ['ip', '-n', 'p-d1', '-batch', '-'], input: 'neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev qr1 nud permanent\n' },
    ]);
    expect(batchInvocations(plan.batches[2]!)).toHaveLength(2);
  });

  it('stops at the first failure with an ApplyError naming the phase', async () => {
    const exec = fakeExec((argv) => argv.includes('sysctl'));
    const err = await applyPlan(exec, plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyError);
    expect((err as ApplyError).phase).toBe('sysctls');
    expect(exec.calls).toHaveLength(3);
  });

  it('runs the nftables operation as one `nft -f -` transaction, and host sysctls without a netns wrapper', async () => {
    const exec = fakeExec();
    await applyPlan(exec, {
      batches: [
        {
          phase: 'nft',
          ops: [
            {
              op: 'nft',
              commands: [
                { cmd: 'add-element', family: 'inet', set: 'sg_a_v4', elements: ['10.0.0.9'] },
                { cmd: 'delete-element', family: 'inet', set: 'sg_a_v4', elements: ['10.0.0.8'] },
              ],
            },
          ],
        },
        { phase: 'sysctls', ops: [{ op: 'sysctl', ns: '', key: 'net.bridge.bridge-nf-call-iptables', value: '1' }] },
      ],
    });
    expect(exec.calls).toEqual([
      { argv: ['nft', '-f', '-'], input: 'add element inet strata sg_a_v4 { 10.0.0.9 }\ndelete element inet strata sg_a_v4 { 10.0.0.8 }\n' },
      { argv: ['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1'] },
    ]);
  });

  it("gives the managed namespace's nft transactions to the host's runner (the worker); a domain namespace's stay `nft -f -` processes; a refusal is an ApplyError", async () => {
    const exec = fakeExec();
    const scripts: string[] = [];
    let refuse = false;
    const runner = {
      run: async (script: string) => {
        scripts.push(script);
        if (refuse) throw new Error('Error: Could not process rule: No such file or directory');
      },
      stop: () => undefined,
    };
    const add = { cmd: 'add-element', family: 'inet', set: 'sg_a_v4', elements: ['10.0.0.9'] } as const;
    const plan: Plan = { batches: [{ phase: 'nft', ops: [{ op: 'nft', commands: [add] }] }, { phase: 'ns-nft', ops: [{ op: 'nft', ns: 'p-d1', commands: [add] }] }] };
    await applyPlan(exec, plan, runner);
    expect(scripts).toEqual(['add element inet strata sg_a_v4 { 10.0.0.9 }\n']);
    expect(exec.calls.map((c) => c.argv)).toEqual([['ip', 'netns', 'exec', 'p-d1', 'nft', '-f', '-']]);
    refuse = true;
    await expect(applyPlan(exec, plan, runner)).rejects.toThrow(ApplyError);
  });
});
