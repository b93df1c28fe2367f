/**
 * What an agent actually programmed, captured from the kernel, against the
 * audit rendering of a host's view (`renderHostLines`): the test side of
 * "the host at a point equals what the agent had applied at that point".
 *
 * A capture holds the kernel as read at one moment — the agent's own reader
 * (links, addresses, routes, neighbours, FDB) and `nft -j list ruleset` of
 * the host's namespace and of each routing-domain namespace — so a test can
 * take it while the scenario runs and compare later, against an audit
 * answer for that moment.
 *
 * Normalised, because the kernel legitimately owns them:
 *   - a link's MAC where the agent leaves it to the kernel (desired `mac`
 *     null) and its bridge-port flags where the agent does not care
 *     (desired `brport` null);
 *   - in the nft JSON: rule handles, the digest comments (a function of the
 *     rule's text), counters' packet and byte values, the metainfo object,
 *     the order of set elements (a set has none), and the order of the
 *     listing's objects (creation order), except each chain's rules.
 * nftables is compared by loading the rendered lines (`nftScript`) into an
 * empty scratch namespace and listing that: the kernel parses both.
 */
import type { HostLine } from '@strata/contracts';
import type { KernelState } from '../core/types.js';
import { inNetns, nodeExec } from '../kernel/exec.js';
import { readActual } from '../kernel/read.js';
import { kernelLines, nftScript } from '../render/host-lines.js';
import { sh } from './netlab.js';

/** Only the kinds the agent's kernel reader reads back. */
const NETLINK_KINDS: ReadonlySet<HostLine['kind']> = new Set(['link', 'address', 'route', 'neighbour', 'fdb']);

/** The link, address, route, neighbour and FDB lines, as comparable text. */
export const netlinkLines = (lines: readonly HostLine[]): string[] =>
  lines.filter((l) => NETLINK_KINDS.has(l.kind)).map((l) => `${l.kind} ${l.where}: ${l.text}`).sort();

/** The actual state with what the agent leaves to the kernel taken from the desired state (see the file comment). */
export function normalisedActual(actual: KernelState, desired: KernelState): KernelState {
  const links = Object.fromEntries(
    Object.entries(actual.links).map(([k, l]) => {
      const want = desired.links[k];
      return [k, { ...l, mac: want && want.mac === null ? null : l.mac, brport: want && want.brport === null ? null : l.brport }];
    }),
  );
  return { ...actual, links };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** `nft -j list ruleset` without what the kernel owns (see the file comment); Strata's tables only. */
export function normaliseRuleset(text: string): Json[] {
  const doc = JSON.parse(text || '{"nftables":[]}') as { nftables: Record<string, Record<string, Json>>[] };
  const out: Json[] = [];
  for (const item of doc.nftables) {
    const [kind, body] = Object.entries(item)[0]!;
    if (kind === 'metainfo') continue;
    const table = kind === 'table' ? body['name'] : body['table'];
    if (table !== 'strata') continue;
    const b: Record<string, Json> = { ...body };
    delete b['handle'];
    if (kind === 'rule') delete b['comment'];
    if (kind === 'counter') {
      b['packets'] = 0;
      b['bytes'] = 0;
    }
    if ((kind === 'set' || kind === 'map') && Array.isArray(b['elem'])) b['elem'] = [...b['elem']].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
    out.push({ [kind]: b });
  }
  // Objects by family, kind and name (the listing follows creation order); a chain's rules keep their order (stable sort).
  const key = (o: Json): string => {
    const [kind, b] = Object.entries(o as Record<string, Record<string, Json>>)[0]!;
    return `${String(b['family'])}|${kind}|${String(kind === 'rule' ? b['chain'] : b['name'])}`;
  };
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The rendered nft lines of one namespace (`label`: `host` or a routing-domain namespace) loaded into the empty namespace `scratch`: its ruleset. */
export async function rulesetOfLines(lines: readonly HostLine[], label: string, scratch: string): Promise<string> {
  await sh(['ip', 'netns', 'add', scratch]);
  try {
    await sh(['ip', 'netns', 'exec', scratch, 'nft', '-f', '-'], nftScript([...lines], label));
    return await sh(['ip', 'netns', 'exec', scratch, 'nft', '-j', 'list', 'ruleset']);
  } finally {
    await sh(['ip', 'netns', 'del', scratch]);
  }
}

/** The kernel of one hypervisor as read at one moment. */
export interface KernelCapture {
  actual: KernelState;
  /** `nft -j list ruleset` by label: `host` (the hypervisor's namespace) and each routing-domain namespace. */
  rulesets: Record<string, string>;
}

/** Read a hypervisor's kernel now: `hostNs` is its namespace, `nsPrefix` its agent's routing-domain namespace prefix. */
export async function captureKernel(hostNs: string, nsPrefix: string): Promise<KernelCapture> {
  const actual = await readActual(inNetns(nodeExec, hostNs), nsPrefix);
  const rulesets: Record<string, string> = { host: await sh(['ip', 'netns', 'exec', hostNs, 'nft', '-j', 'list', 'ruleset']) };
  for (const ns of Object.keys(actual.namespaces)) rulesets[ns] = await sh(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset']);
  return { actual, rulesets };
}

/**
 * How a capture differs from rendered lines (empty: it is what they mean):
 * the netlink lines of the agent's reader (normalised by `desired`, the
 * rendering's own desired kernel state) against the rendered ones, then
 * each namespace's nftables against the rendered lines loaded into a
 * scratch namespace (`scratchPrefix` + a counter).
 */
export async function captureDiffers(capture: KernelCapture, lines: readonly HostLine[], desired: KernelState, scratchPrefix: string): Promise<string[]> {
  const out: string[] = [];
  const got = netlinkLines(kernelLines(normalisedActual(capture.actual, desired)));
  const want = netlinkLines(lines);
  for (const l of want) if (!got.includes(l)) out.push(`rendered, not in the kernel: ${l}`);
  for (const l of got) if (!want.includes(l)) out.push(`in the kernel, not rendered: ${l}`);
  const labels = new Set([...Object.keys(capture.rulesets), ...lines.filter((l) => l.kind.startsWith('nft-')).map((l) => l.where.split(' ')[0]!)]);
  let n = 0;
  for (const label of labels) {
    const rendered = normaliseRuleset(await rulesetOfLines(lines, label, `${scratchPrefix}${++n}`));
    const kernel = normaliseRuleset(capture.rulesets[label] ?? '');
    if (JSON.stringify(rendered) !== JSON.stringify(kernel)) out.push(`nftables in ${label}: rendered ${JSON.stringify(rendered)}\n  kernel ${JSON.stringify(kernel)}`);
  }
  return out;
}
