import { describe, expect, it } from 'vitest';
import type { Network__Output, Subnet__Output } from '@strata/proto';
import { networkColumns } from './commands/networks.js';
import { subnetColumns } from './commands/subnets.js';
import { printDeleted, printOne, printPage, renderJson, renderTable, type Format, type Io } from './output.js';

const net: Network__Output = {
  id: '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b',
  tenant: 't1',
  name: 'web',
  vni: 5001,
  mtu: 1450,
  routed: false,
  createdAt: '2024-05-01T14:03:00.000Z',
};

// As proto-loader decodes it: an unset optional field plus its virtual oneof marker.
const isolated = {
  id: 's1', tenant: 't1', networkId: net.id, name: '', ipVersion: 4, cidr: '10.0.0.0/24',
  allocationPools: [{ start: '10.0.0.2', end: '10.0.0.9' }], enableDhcp: true, createdAt: '2024-05-01T14:03:00.000Z', description: '', dnsNameservers: [], hostRoutes: [], revision: 1,
} as Subnet__Output;
const withGateway = { ...isolated, gatewayIp: '10.0.0.1', _gatewayIp: 'gatewayIp' } as Subnet__Output;

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s) };
}

describe('table output', () => {
  it('renders a list with one header row and one row per item, no colour codes', () => {
    const text = renderTable([net], networkColumns);
    const lines = text.split('\n');
    expect(lines[1]).toMatch(/│ ID\s+│ NAME │ TENANT │ VNI\s+│ MTU\s+│ ROUTED │ CREATED\s+│/);
    expect(text).toContain(`│ ${net.id} │ web  │ t1     │ 5001 │ 1450 │ no     │ 2024-05-01T14:03:00.000Z │`);
    expect(text).not.toMatch(/\x1b\[/);
  });

  it('shows one item as field/value rows and fills gaps with "-" or the domain word', () => {
    const io = capture();
    printOne(io, 'table', isolated, subnetColumns);
    const text = io.stdout.join('\n');
    expect(text).toMatch(/│ GATEWAY\s+│ none\s+│/);
    expect(text).toMatch(/│ NAME\s+│ -\s+│/);
    expect(text).toMatch(/│ POOLS\s+│ 10\.0\.0\.2-10\.0\.0\.9\s+│/);
  });

  it('puts the next-page hint on stderr, leaving stdout to the table', () => {
    const io = capture();
    printPage(io, 'table', { items: [net], next: net.id }, networkColumns);
    expect(io.stdout).toHaveLength(1);
    expect(io.stderr).toEqual([`more results: repeat with --after ${net.id}`]);
  });
});

describe('json output', () => {
  it('prints exactly the API result, without proto-loader’s virtual oneof keys', () => {
    expect(JSON.parse(renderJson(withGateway))).toEqual({ ...isolated, gatewayIp: '10.0.0.1' });
    expect(JSON.parse(renderJson(isolated))).not.toHaveProperty('gatewayIp');
  });

  it.each<[Format, string]>([
    ['json', `{\n  "id": "${net.id}"\n}`],
    ['table', `deleted network ${net.id}`],
  ])('reports a delete (%s)', (format, expected) => {
    const io = capture();
    printDeleted(io, format, 'network', { id: net.id });
    expect(io.stdout).toEqual([expected]);
  });

  it('prints a page as one JSON document and no hint', () => {
    const io = capture();
    printPage(io, 'json', { items: [net], next: 'x' }, networkColumns);
    expect(JSON.parse(io.stdout[0]!)).toEqual({ items: [net], next: 'x' });
    expect(io.stderr).toEqual([]);
  });
});
