/**
 * Hypervisors in network namespaces, for any harness that runs real agents
 * (the Lab, the fault tier's plane): the underlay switch, each hypervisor's
 * underlay address, the environment an agent runs with, and the exit hook
 * that deletes a harness's namespaces when its runner ends without
 * teardown.
 *
 *   <p>fab     underlay switch (bridge ul0), 198.18.0.0/24
 *   <p>hv1..N  hypervisors: eth0 = 198.18.0.(10+i), and that address in the underlay's IPv6 /96
 */
import { join } from 'node:path';
import { underlay6 } from './bgp-fabric.js';
import { deleteAllSync, Netns } from './netns.js';
import { sh } from './sh.js';
import type { ManagedProcess } from './process.js';

export interface Hypervisor {
  id: string;
  ns: Netns;
  vtepIp: string;
  agent?: ManagedProcess;
}

/** The underlay address of hypervisor `hv<i>` (1-based). */
export const underlayIp = (i: number): string => `198.18.0.${10 + i}`;

/** A fabric namespace `<prefix>fab` with its switch (bridge ul0) and nothing plugged in. */
export async function buildFabric(prefix: string): Promise<Netns> {
  const fabric = await Netns.create(`${prefix}fab`);
  await fabric.ip(['link', 'add', 'ul0', 'type', 'bridge']);
  await fabric.ip(['link', 'set', 'ul0', 'up']);
  return fabric;
}

/**
 * The fabric namespace with its switch, and hypervisors plugged into it:
 * `hv1..N` for a count; for `join`, the hypervisors numbered `hosts` (their
 * namespaces under this prefix, their ports `hv<i>` on the switch) plugged
 * into a fabric another harness owns (several availability zones on one
 * underlay, zones.ts).
 */
export async function buildUnderlay(prefix: string, count: number, join?: { fabric: Netns; hosts: readonly number[] }): Promise<{ fabric: Netns; hosts: Hypervisor[] }> {
  const fabric = join?.fabric ?? (await buildFabric(prefix));
  const hosts: Hypervisor[] = [];
  for (const i of join?.hosts ?? Array.from({ length: count }, (_, k) => k + 1)) {
    const ns = await Netns.create(`${prefix}hv${i}`);
    const vtepIp = underlayIp(i);
    await sh(['ip', '-n', fabric.name, 'link', 'add', `hv${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
    await fabric.ip(['link', 'set', `hv${i}`, 'master', 'ul0', 'up']);
    await ns.ip(['addr', 'add', `${vtepIp}/24`, 'dev', 'eth0']);
    // The host's underlay IPv6 address: the fabric's next hop for its routed IPv6 networks (BGP gateway).
    await ns.ip(['-6', 'addr', 'add', `${underlay6(vtepIp)}/96`, 'dev', 'eth0', 'nodad']);
    await ns.ip(['link', 'set', 'eth0', 'up']);
    hosts.push({ id: `hv${i}`, ns, vtepIp });
  }
  return { fabric, hosts };
}

/**
 * What an agent of hypervisor `h` runs with beside its NATS user: it manages
 * the hypervisor's namespace with `ip -n` (as it would the host it runs on),
 * names its routing domains with the harness's prefix (so teardown finds
 * them), keeps its state under `stateDir`.
 */
export function agentEnv(prefix: string, h: Hypervisor, stateDir: string, resyncSeconds: number): Record<string, string> {
  return {
    STRATA_HTTP_PORT: '0',
    AGENT_HOST_ID: h.id,
    AGENT_NETNS: h.ns.name,
    AGENT_NETNS_PREFIX: `${prefix}${h.id}-`,
    AGENT_STATE_DIR: join(stateDir, h.id),
    AGENT_RESYNC_SECONDS: String(resyncSeconds),
  };
}

/** Prefix → marker of every harness whose namespaces are not deleted yet. */
const cleanups = new Map<string, string>();
let hooked = false;

/**
 * Delete the namespaces of `prefix` (and stop the processes marked `marker`)
 * when this process exits without teardown; the returned function, called
 * after a teardown, forgets them.
 */
export function guardNamespaces(prefix: string, marker: string): () => void {
  if (!hooked) {
    hooked = true;
    // Last resort when a test runner dies without teardown: neither namespaces nor what runs in them may outlive the run.
    process.on('exit', () => {
      for (const [p, m] of cleanups) deleteAllSync(p, m);
    });
  }
  cleanups.set(prefix, marker);
  return () => cleanups.delete(prefix);
}
