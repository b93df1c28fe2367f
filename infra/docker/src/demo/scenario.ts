/**
 * What the demo builds and what it expects, as data.
 *
 * Two tenants use the same ranges (10.0.0.0/24 and 10.0.1.0/24, joined by a
 * router each), with VMs spread over the three hypervisors so that every path
 * exists: same subnet across hosts, routed across hosts. tenant-a runs the
 * three-tier example of the security-group tests:
 *
 *   web (a-w1 hv1, a-w2 hv2)  ingress tcp/443 from anywhere
 *   app (a-a1 hv1, a-a2 hv2)  ingress tcp/9000 from members of web
 *   db  (a-d1 hv3)            ingress tcp/5432 from members of app
 *   a-c (hv3)                 the tenant's default group
 *
 * tenant-b's VMs stay in their default group (anything between members).
 * b-1 has the same address as a-w1: every VM answers TCP with its own name,
 * so a check sees which of the two was reached.
 */
import type { Who } from './cli.js';

export const HYPERVISORS = ['hv1', 'hv2', 'hv3'] as const;
export const TENANTS = ['tenant-a', 'tenant-b'] as const satisfies readonly Who[];
export const CIDRS = ['10.0.0.0/24', '10.0.1.0/24'] as const;
/** Every VM listens on these (busybox nc answering with the VM's name). */
export const SERVICE_PORTS = [443, 9000, 5432] as const;

export interface VmSpec {
  name: string;
  tenant: (typeof TENANTS)[number];
  /** Index into CIDRS. */
  net: 0 | 1;
  ip: string;
  host: (typeof HYPERVISORS)[number];
  group?: 'web' | 'app' | 'db';
}

export const VMS: VmSpec[] = [
  { name: 'a-w1', tenant: 'tenant-a', net: 0, ip: '10.0.0.11', host: 'hv1', group: 'web' },
  { name: 'a-w2', tenant: 'tenant-a', net: 0, ip: '10.0.0.12', host: 'hv2', group: 'web' },
  { name: 'a-a1', tenant: 'tenant-a', net: 0, ip: '10.0.0.21', host: 'hv1', group: 'app' },
  { name: 'a-a2', tenant: 'tenant-a', net: 1, ip: '10.0.1.22', host: 'hv2', group: 'app' },
  { name: 'a-d1', tenant: 'tenant-a', net: 1, ip: '10.0.1.31', host: 'hv3', group: 'db' },
  { name: 'a-c', tenant: 'tenant-a', net: 0, ip: '10.0.0.41', host: 'hv3' },
  { name: 'b-1', tenant: 'tenant-b', net: 0, ip: '10.0.0.11', host: 'hv1' },
  { name: 'b-2', tenant: 'tenant-b', net: 0, ip: '10.0.0.12', host: 'hv3' },
  { name: 'b-3', tenant: 'tenant-b', net: 1, ip: '10.0.1.11', host: 'hv2' },
];

export interface GroupSpec {
  name: 'web' | 'app' | 'db';
  port: number;
  /** Peers allowed in: any address, or the members of another group. */
  from: { cidr: string } | { group: 'web' | 'app' };
}

export const GROUPS: GroupSpec[] = [
  { name: 'web', port: 443, from: { cidr: '0.0.0.0/0' } },
  { name: 'app', port: 9000, from: { group: 'web' } },
  { name: 'db', port: 5432, from: { group: 'app' } },
];

/**
 * Service chaining: a firewall VM (one-arm, L3) on hv3 inserted between
 * tenant-a's web and app tiers: tcp/9000 from group web to 10.0.1.0/24 is
 * steered through it by policy on the source hypervisor; everything else
 * takes the direct path.
 */
export const FIREWALL = { name: 'a-fw', tenant: 'tenant-a', net: 1, ip: '10.0.1.50', host: 'hv3', port: 9000 } as const;

/**
 * The tenant driven only with the stock `openstack` CLI through the Neutron
 * API and Keystone (project demo, as its member): a network and subnet, a
 * router with an interface on it and a gateway to the operator's external
 * network, a security group letting in ping and tcp/443, two ports the
 * compute stand-in binds to hv1 and hv2 (as admin, the way Nova binds a
 * port), and a floating IP for the first.
 */
export const OPENSTACK = {
  network: 'os-net',
  subnet: 'os-subnet',
  cidr: '10.20.0.0/24',
  router: 'os-router',
  group: 'os-web',
  servicePort: 443,
  vms: [
    { name: 'os-1', host: 'hv1', ip: '10.20.0.11' },
    { name: 'os-2', host: 'hv2', ip: '10.20.0.12' },
  ],
} as const;

export interface Check {
  section: 'realisation' | 'updates' | 'reachability' | 'overlap' | 'isolation' | 'security groups' | 'nat' | 'service chaining' | 'audit' | 'openstack';
  what: string;
  from: string;
  to: string;
  /** TCP port, or ping. */
  port: number | 'ping';
  /** The VM that must answer (TCP) / true for a ping reply; null: nothing may answer. */
  expect: string | true | null;
}

/** A check as it turned out: what was seen, whether it was what was expected, why the probe did not run. */
export interface Outcome extends Check {
  got: string | true | null;
  ok: boolean;
  error?: string;
}

const ip = (vm: string): string => VMS.find((v) => v.name === vm)!.ip;

export const CHECKS: Check[] = [
  { section: 'reachability', what: 'same subnet, hv1 -> hv3 (VXLAN)', from: 'b-1', to: ip('b-2'), port: 'ping', expect: true },
  { section: 'reachability', what: 'routed across subnets, hv1 -> hv2', from: 'b-1', to: ip('b-3'), port: 'ping', expect: true },
  { section: 'overlap', what: "tenant-b reaches its own 10.0.0.11", from: 'b-2', to: '10.0.0.11', port: 443, expect: 'b-1' },
  { section: 'overlap', what: "tenant-a reaches its own 10.0.0.11 (anyone -> web:443)", from: 'a-c', to: '10.0.0.11', port: 443, expect: 'a-w1' },
  { section: 'security groups', what: 'web -> app:9000 (across hosts and subnets)', from: 'a-w1', to: ip('a-a2'), port: 9000, expect: 'a-a2' },
  { section: 'security groups', what: 'web -> app:9000', from: 'a-w2', to: ip('a-a1'), port: 9000, expect: 'a-a1' },
  { section: 'security groups', what: 'app -> db:5432', from: 'a-a1', to: ip('a-d1'), port: 5432, expect: 'a-d1' },
  // Only after every allowed path works (the data plane has converged) does a refusal mean something.
  { section: 'security groups', what: 'not web -> app:9000 refused', from: 'a-c', to: ip('a-a1'), port: 9000, expect: null },
  { section: 'security groups', what: 'web -> db:5432 refused (no skipping a tier)', from: 'a-w1', to: ip('a-d1'), port: 5432, expect: null },
  { section: 'security groups', what: 'db -> app:9000 refused (reverse direction)', from: 'a-d1', to: ip('a-a1'), port: 9000, expect: null },
  { section: 'security groups', what: 'web:9000 refused (web opens 443 only)', from: 'a-c', to: ip('a-w1'), port: 9000, expect: null },
  { section: 'isolation', what: "tenant-a cannot reach tenant-b's 10.0.1.11", from: 'a-c', to: ip('b-3'), port: 443, expect: null },
  { section: 'isolation', what: "tenant-b cannot reach tenant-a's 10.0.1.22", from: 'b-1', to: ip('a-a2'), port: 9000, expect: null },
  { section: 'isolation', what: "tenant-b cannot ping tenant-a's 10.0.1.31", from: 'b-1', to: ip('a-d1'), port: 'ping', expect: null },
];
