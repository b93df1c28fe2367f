/**
 * A plan applied to a value: what the kernel does with each operation,
 * including the side effects the diff must know about (deleting a bridge
 * releases its ports and empties its FDB; deleting one end of a veth deletes
 * the other; moving a port to another master flushes its FDB entries;
 * deleting a namespace destroys everything in it).
 *
 * Strict: an operation that would add an existing object or remove a missing
 * one throws `InexactPlanError`. The diff simulates its own plan with this
 * model, and the property tests use it to prove that a plan turns A into B.
 */
import { STRATA_HOST_LINK } from './names.js';
import { applyNftCmd, NftModelError } from './nft.js';
import {
  DEFAULT_BRPORT,
  HOST_NS,
  addrKey,
  fdbKey,
  linkKey,
  neighKey,
  routeKey,
  ruleKey,
  type ActualState,
  type FdbEntry,
  type LinkState,
  type Op,
  type Plan,
} from './types.js';

export class InexactPlanError extends Error {
  override readonly name = 'InexactPlanError';
  constructor(
    message: string,
    readonly op: Op,
  ) {
    super(`${message}: ${JSON.stringify(op)}`);
  }
}

/** The sysctl values of a namespace the kernel just created. */
export const FRESH_NAMESPACE_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '0',
  'net.ipv6.conf.all.forwarding': '0',
  'net.ipv6.conf.all.accept_ra': '1',
  'net.ipv6.conf.default.accept_ra': '1',
};

export const cloneState = (s: ActualState): ActualState => structuredClone(s);

/** Apply a whole plan to a copy of `state`. */
export function applyPlanToState(state: ActualState, plan: Plan): ActualState {
  const next = cloneState(state);
  for (const batch of plan.batches) for (const op of batch.ops) applyOp(next, op);
  return next;
}

/** Apply one operation in place. */
export function applyOp(s: ActualState, op: Op): void {
  const fail = (why: string): never => {
    throw new InexactPlanError(why, op);
  };
  switch (op.op) {
    case 'nft': {
      if (op.commands.length === 0) fail('empty transaction');
      if (op.ns !== undefined && op.ns !== HOST_NS && !s.namespaces[op.ns]) fail('no such namespace');
      const nft = op.ns === undefined || op.ns === HOST_NS ? s.nft : (s.nsNft[op.ns] ??= { tables: {} });
      for (const c of op.commands) {
        try {
          applyNftCmd(nft, c);
        } catch (err) {
          if (err instanceof NftModelError) fail(`nft ${c.cmd}: ${err.message}`);
          throw err;
        }
      }
      if (op.ns !== undefined && op.ns !== HOST_NS && Object.keys(nft.tables).length === 0) delete s.nsNft[op.ns];
      return;
    }
    case 'ns-add':
      if (s.namespaces[op.ns]) fail('namespace exists');
      s.namespaces[op.ns] = { name: op.ns, sysctls: { ...FRESH_NAMESPACE_SYSCTLS } };
      return;
    case 'ns-del':
      if (!s.namespaces[op.ns]) fail('no such namespace');
      deleteNamespace(s, op.ns);
      return;
    case 'sysctl': {
      if (op.ns === HOST_NS) {
        if (s.hostSysctls[op.key] === op.value) fail('sysctl already has this value');
        s.hostSysctls[op.key] = op.value;
        return;
      }
      const ns = s.namespaces[op.ns] ?? fail('no such namespace');
      if (ns.sysctls[op.key] === op.value) fail('sysctl already has this value');
      ns.sysctls[op.key] = op.value;
      return;
    }
    case 'link-add': {
      const ends = op.peer ? [op.link, op.peer] : [op.link];
      for (const l of ends) {
        if (l.ns !== HOST_NS && !s.namespaces[l.ns]) fail(`no namespace ${l.ns}`);
        if (s.links[linkKey(l.ns, l.name)]) fail(`link ${linkKey(l.ns, l.name)} exists`);
        if (l.master !== null && s.links[linkKey(l.ns, l.master)]?.kind !== 'bridge') fail(`no bridge ${l.master}`);
      }
      for (const l of ends) s.links[linkKey(l.ns, l.name)] = structuredClone(l);
      return;
    }
    case 'link-set': {
      const l = s.links[linkKey(op.ns, op.name)] ?? fail('no such link');
      const c = op.set;
      if (Object.keys(c).length === 0) fail('nothing to change');
      if (c.master !== undefined && c.master !== l.master) {
        if (c.master !== null && s.links[linkKey(op.ns, c.master)]?.kind !== 'bridge') fail(`no bridge ${c.master}`);
        flushPortFdb(s, l.name);
        l.master = c.master;
        l.brport = c.master === null ? null : { ...DEFAULT_BRPORT };
      }
      if (c.brport !== undefined) {
        if (l.master === null) fail('bridge-port flags on a link without master');
        l.brport = { ...c.brport };
      }
      if (c.mtu !== undefined) l.mtu = c.mtu;
      if (c.up !== undefined) l.up = c.up;
      if (c.alias !== undefined) l.alias = c.alias;
      if (c.mac !== undefined) l.mac = c.mac;
      return;
    }
    case 'link-del':
      if (!s.links[linkKey(op.ns, op.name)]) fail('no such link');
      deleteLink(s, op.ns, op.name);
      return;
    case 'plug': {
      const p = op.plug;
      if (!s.devices.includes(p.device)) fail('no such device');
      if (s.links[linkKey(HOST_NS, p.master)]?.kind !== 'bridge') fail(`no bridge ${p.master}`);
      const before = s.plugs[p.device];
      if (before && before.master === p.master && before.mtu === p.mtu && before.up === p.up) fail('already plugged');
      if (before && before.master !== p.master) flushPortFdb(s, p.device);
      s.plugs[p.device] = { ...p };
      return;
    }
    case 'unplug':
      if (!s.plugs[op.device]) fail('not plugged');
      delete s.plugs[op.device];
      flushPortFdb(s, op.device);
      return;
    case 'addr-add': {
      const k = addrKey(op.addr);
      if (s.addrs[k]) fail('address exists');
      if (!s.links[linkKey(op.addr.ns, op.addr.dev)]) fail('no such link');
      s.addrs[k] = { ...op.addr };
      return;
    }
    case 'addr-del': {
      const k = addrKey(op.addr);
      if (!s.addrs[k]) fail('no such address');
      delete s.addrs[k];
      return;
    }
    case 'fdb-add':
    case 'fdb-replace': {
      const k = fdbKey(op.entry);
      const before = s.fdb[k];
      if (op.op === 'fdb-add' && before) fail('fdb entry exists');
      if (op.op === 'fdb-replace' && (!before || sameFdb(before, op.entry))) fail('nothing to replace');
      checkFdbTarget(s, op.entry, fail);
      s.fdb[k] = { ...op.entry };
      return;
    }
    case 'fdb-del': {
      const k = fdbKey(op.entry);
      if (!s.fdb[k]) fail('no such fdb entry');
      delete s.fdb[k];
      return;
    }
    case 'neigh-replace': {
      const k = neighKey(op.entry);
      const before = s.neighs[k];
      if (before && before.mac === op.entry.mac) fail('neighbour exists');
      if (!s.links[linkKey(op.entry.ns, op.entry.dev)]) fail('no such link');
      s.neighs[k] = { ...op.entry };
      return;
    }
    case 'neigh-del': {
      const k = neighKey(op.entry);
      if (!s.neighs[k]) fail('no such neighbour');
      delete s.neighs[k];
      return;
    }
    case 'route-replace': {
      const k = routeKey(op.entry);
      const before = s.routes[k];
      if (before && before.dev === op.entry.dev && before.via === op.entry.via) fail('route exists');
      if (op.entry.table !== undefined && op.entry.ns === HOST_NS) fail('policy routing tables are only in domain namespaces');
      // A route needs its device, up: the kernel refuses a route through a link that is down.
      const l = s.links[linkKey(op.entry.ns, op.entry.dev)] ?? fail('no such link');
      if (!l.up) fail('link is down');
      s.routes[k] = { ...op.entry };
      return;
    }
    case 'route-del': {
      const k = routeKey(op.entry);
      if (!s.routes[k]) fail('no such route');
      delete s.routes[k];
      return;
    }
    case 'rule-add': {
      const k = ruleKey(op.entry);
      if (op.entry.ns === HOST_NS || !s.namespaces[op.entry.ns]) fail('no such namespace');
      if (s.rules[k]) fail('rule exists');
      s.rules[k] = { ...op.entry };
      return;
    }
    case 'rule-del': {
      const k = ruleKey(op.entry);
      if (!s.rules[k]) fail('no such rule');
      delete s.rules[k];
      return;
    }
  }
}

export const sameFdb = (a: FdbEntry, b: FdbEntry): boolean => JSON.stringify(a) === JSON.stringify(b);

function checkFdbTarget(s: ActualState, e: FdbEntry, fail: (why: string) => never): void {
  if (e.kind === 'bridge') {
    const port = s.links[linkKey(HOST_NS, e.dev)];
    const master = port ? port.master : s.plugs[e.dev]?.master;
    if (master !== e.master) fail(`${e.dev} is not a port of ${e.master}`);
  } else if (s.links[linkKey(HOST_NS, e.dev)]?.kind !== 'vxlan') {
    fail(`no vxlan ${e.dev}`);
  }
}

/** A port left its bridge: the bridge forgets every entry pointing at it. */
/**
 * A link outside Strata's own appeared in the host namespace (`ip monitor
 * link`): a port device the plan may now plug. Strata's links are the
 * plan's own and not followed here.
 */
export function deviceAppeared(s: ActualState, name: string): void {
  if (STRATA_HOST_LINK.test(name) || s.devices.includes(name)) return;
  s.devices.push(name);
  s.devices.sort();
}

/** A device left the host namespace (a VM's tap deleted): the kernel took its plug and its bridge FDB entries with it. */
export function deviceGone(s: ActualState, name: string): void {
  if (STRATA_HOST_LINK.test(name)) return;
  s.devices = s.devices.filter((d) => d !== name);
  delete s.plugs[name];
  flushPortFdb(s, name);
}

function flushPortFdb(s: ActualState, dev: string): void {
  for (const [k, f] of Object.entries(s.fdb)) if (f.kind === 'bridge' && f.dev === dev) delete s.fdb[k];
}

function deleteLink(s: ActualState, ns: string, name: string): void {
  const key = linkKey(ns, name);
  const link: LinkState | undefined = s.links[key];
  if (!link) return;
  delete s.links[key];
  for (const [k, a] of Object.entries(s.addrs)) if (a.ns === ns && a.dev === name) delete s.addrs[k];
  for (const [k, n] of Object.entries(s.neighs)) if (n.ns === ns && n.dev === name) delete s.neighs[k];
  for (const [k, r] of Object.entries(s.routes)) if (r.ns === ns && r.dev === name) delete s.routes[k];
  if (ns === HOST_NS) {
    for (const [k, f] of Object.entries(s.fdb)) {
      const on = f.kind === 'bridge' ? f.dev === name || f.master === name : f.dev === name;
      if (on) delete s.fdb[k];
    }
  }
  if (link.kind === 'bridge') {
    for (const l of Object.values(s.links)) {
      if (l.ns === ns && l.master === name) {
        l.master = null;
        l.brport = null;
      }
    }
    if (ns === HOST_NS) for (const [k, p] of Object.entries(s.plugs)) if (p.master === name) delete s.plugs[k];
  }
  if (link.kind === 'veth' && link.peer) deleteLink(s, link.peer.ns, link.peer.name);
}

function deleteNamespace(s: ActualState, ns: string): void {
  for (const l of Object.values(s.links)) if (l.ns === ns) deleteLink(s, ns, l.name);
  for (const [k, a] of Object.entries(s.addrs)) if (a.ns === ns) delete s.addrs[k];
  for (const [k, n] of Object.entries(s.neighs)) if (n.ns === ns) delete s.neighs[k];
  for (const [k, r] of Object.entries(s.routes)) if (r.ns === ns) delete s.routes[k];
  for (const [k, r] of Object.entries(s.rules)) if (r.ns === ns) delete s.rules[k];
  delete s.nsNft[ns];
  delete s.namespaces[ns];
}
