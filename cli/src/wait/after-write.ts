/**
 * `--wait` on every command that changes what hypervisors apply: after the
 * reply, wait until the change is in the data plane.
 *
 * - The write barrier at the reply's log position (Barrier: every host
 *   whose view the write changed has applied it). It is admin-only.
 * - The resource the command changed, when it has one whose status can be
 *   asked (a port, network, router, security group or chain), as of that
 *   position: a port until ACTIVE after create/bind/update, anything else
 *   until applied on every host holding it. A tenant, refused the barrier,
 *   waits for this alone; a command with no such resource (a delete, a
 *   subnet, a floating IP...) cannot be waited for by a tenant, and says so.
 *
 * The options are added to the command tree after it is built, by command
 * path, so a new write command gets `--wait` without code of its own.
 */
import { status } from '@grpc/grpc-js';
import { Option, type Command } from 'commander';
import { duration } from '../args.js';
import type { CliContext } from '../context.js';
import { NotRealisedError, isServiceError } from '../errors.js';
import { DEFAULT_WAIT_TIMEOUT_MS, TIMEOUT_HELP, waitContext } from '../commands/wait.js';
import { describeBarrier, describeRealisation } from './describe.js';
import { waitForPosition, waitForResource, type ResourceRef } from './waiter.js';

/** Verbs that only read. */
const READS = new Set(['list', 'show', 'security', 'tail']);
/** Groups whose writes change no hypervisor's view (BGP is the gateway's; pools are address books) or that are not writes. */
const NO_DATA_PLANE = new Set(['bgp', 'pool', 'events', 'wait', 'audit']);

/** What a write changed that has a status of its own: its kind, where its id is, and what "done" means. */
interface ResourceRule {
  kind: string;
  /** arg: the command's first argument; reply: the reply's id (a create). */
  id: 'arg' | 'reply';
  /** A port that must become ACTIVE (so it must be bound). */
  active?: true;
}

export const RESOURCE_RULES: Readonly<Record<string, ResourceRule>> = {
  'port create': { kind: 'port', id: 'reply', active: true },
  'port bind': { kind: 'port', id: 'arg', active: true },
  'port update': { kind: 'port', id: 'arg', active: true },
  'port set': { kind: 'port', id: 'arg' },
  'port set-groups': { kind: 'port', id: 'arg' },
  'port set-security': { kind: 'port', id: 'arg' },
  'network create': { kind: 'network', id: 'reply' },
  'network update': { kind: 'network', id: 'arg' },
  'router create': { kind: 'router', id: 'reply' },
  'router update': { kind: 'router', id: 'arg' },
  'router add-interface': { kind: 'router', id: 'arg' },
  'router remove-interface': { kind: 'router', id: 'arg' },
  'router set-gateway': { kind: 'router', id: 'arg' },
  'secgroup create': { kind: 'security-group', id: 'reply' },
  'secgroup update': { kind: 'security-group', id: 'arg' },
  'secgroup rule create': { kind: 'security-group', id: 'arg' },
  'secgroup rule delete': { kind: 'security-group', id: 'arg' },
  'sfc chain create': { kind: 'chain', id: 'reply' },
  'sfc chain update': { kind: 'chain', id: 'arg' },
};

/** `port create`, `secgroup rule create`: the path below the program. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Whether a leaf command (by path) writes something hypervisors apply. */
export function changesDataPlane(path: string): boolean {
  const words = path.split(' ');
  return !NO_DATA_PLANE.has(words[0]!) && !READS.has(words.at(-1)!);
}

function leaves(cmd: Command): Command[] {
  return cmd.commands.length === 0 ? [cmd] : cmd.commands.flatMap(leaves);
}

export function addWaitOptions(program: Command, cli: CliContext): void {
  for (const leaf of leaves(program)) {
    if (leaf === program || !changesDataPlane(commandPath(leaf))) continue;
    leaf
      .addOption(new Option('--wait', 'after the reply, wait until the change is applied on every host it affects (a port: until ACTIVE)'))
      .addOption(new Option('--timeout <duration>', `with --wait: ${TIMEOUT_HELP}`).argParser(duration).default(DEFAULT_WAIT_TIMEOUT_MS));
  }
  program.hook('postAction', async (_program, action) => {
    const o = action.opts<{ wait?: boolean; timeout?: number }>();
    if (o.wait) await waitAfterWrite(cli, action, o.timeout ?? DEFAULT_WAIT_TIMEOUT_MS);
  });
}

function resourceOf(rule: ResourceRule | undefined, action: Command, reply: unknown): ResourceRef | undefined {
  if (rule === undefined) return undefined;
  const id = rule.id === 'arg' ? action.args[0] : (reply as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' && id !== '' ? { kind: rule.kind, id } : undefined;
}

async function waitAfterWrite(cli: CliContext, action: Command, timeoutMs: number): Promise<void> {
  const path = commandPath(action);
  const ctx = waitContext(cli, action, timeoutMs);
  const written = ctx.api.lastWrite();
  if (written === undefined) {
    cli.io.err('--wait: the command wrote nothing (no change), so there is nothing to wait for');
    return;
  }
  const rule = RESOURCE_RULES[path];
  const resource = resourceOf(rule, action, written.reply);
  if (rule?.active && resource && (written.reply as { hostId?: string }).hostId === undefined) {
    throw new NotRealisedError(
      'NOT_REALISABLE',
      `port ${resource.id} cannot become ACTIVE: it is not bound to a hypervisor (bind it: strata port bind ${resource.id} --host <host>)`,
    );
  }
  try {
    const b = await waitForPosition(ctx, written.position);
    cli.io.err(`realised: ${describeBarrier(b)}`);
  } catch (err) {
    if (!isServiceError(err) || err.code !== status.PERMISSION_DENIED) throw err;
    if (resource === undefined) {
      throw new NotRealisedError(
        'NOT_REALISABLE',
        `--wait: the write (position ${written.position}) succeeded, but waiting for it needs the write barrier, which is admin-only, and \`${path}\` changes no resource whose own status can be asked`,
      );
    }
  }
  if (resource) {
    const r = await waitForResource(ctx, resource, written.position);
    cli.io.err(`realised: ${describeRealisation(r)}`);
  }
}
