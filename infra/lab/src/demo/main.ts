#!/usr/bin/env node
/**
 * The README's demo: start the control plane, drive it with the real
 * `strata` CLI, show the results, and leave it running for people to try.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { ROOT, startControlPlane } from './control-plane.js';

const run = promisify(execFile);
const bold = (s: string): string => `\x1b[1m${s}\x1b[0m`;
const say = (s: string): void => console.log(bold(`==> ${s}`));

const dir = mkdtempSync(join(tmpdir(), 'strata-demo-'));
const cp = await startControlPlane(dir, ['tenant-a', 'tenant-b'], say, { postgres: true });
const cli = join(ROOT, 'cli/dist/main.js');

async function strata(who: string, args: string[], opts: { json?: boolean; quiet?: boolean; expectFailure?: boolean } = {}): Promise<unknown> {
  const argv = [...args, ...(opts.json ? ['-o', 'json'] : [])];
  if (!opts.quiet) console.log(`\n$ STRATA_TOKEN=<${who}> strata ${args.join(' ')}`);
  try {
    const { stdout } = await run(process.execPath, [cli, ...argv], { env: { ...process.env, STRATA_SERVER: cp.apiAddr, STRATA_TOKEN: cp.tokens[who], ...cp.cliEnv } });
    if (!opts.quiet && !opts.json) process.stdout.write(stdout);
    if (opts.expectFailure) throw new Error(`expected strata ${args.join(' ')} to fail`);
    return opts.json ? JSON.parse(stdout) : stdout;
  } catch (e) {
    const err = e as { stderr?: string; code?: number };
    if (!opts.expectFailure || err.stderr === undefined) throw e;
    process.stdout.write(`${err.stderr}(exit ${err.code})\n`);
    return undefined;
  }
}

let failed = false;
try {
  say('two tenants create networks with the same address range');
  const ids: Record<string, { net: string; subnet: string }> = {};
  for (const t of ['tenant-a', 'tenant-b']) {
    const net = (await strata(t, ['network', 'create', '--name', `${t}-web`], { json: true })) as { id: string; vni: number };
    console.log(`  ${t}: network ${net.id} (VNI ${net.vni})`);
    const subnet = (await strata(t, ['subnet', 'create', '--network', net.id, '--cidr', '10.0.0.0/24', '--name', 'web'], { json: true })) as { id: string };
    ids[t] = { net: net.id, subnet: subnet.id };
  }
  await strata('tenant-a', ['network', 'list']);
  await strata('tenant-a', ['subnet', 'list']);

  say('20 ports created at once per tenant, served by both IPAM instances: addresses never collide');
  await Promise.all(
    ['tenant-a', 'tenant-b'].flatMap((t) => Array.from({ length: 20 }, (_, i) => strata(t, ['port', 'create', '--network', ids[t]!.net, '--name', `vm${i}`], { json: true, quiet: true }))),
  );
  await strata('tenant-a', ['port', 'list']);

  say("tenant-b cannot see or touch tenant-a's network");
  await strata('tenant-b', ['network', 'show', ids['tenant-a']!.net], { expectFailure: true });
  await strata('tenant-b', ['port', 'create', '--network', ids['tenant-a']!.net], { expectFailure: true });

  say('invalid input is refused with a clear error and writes nothing');
  await strata('tenant-a', ['subnet', 'create', '--network', ids['tenant-a']!.net, '--cidr', '10.0.0.128/25'], { expectFailure: true });
  await strata('tenant-a', ['subnet', 'create', '--network', ids['tenant-a']!.net, '--cidr', '10.1.0.7/24'], { expectFailure: true });

  say('security groups: every new port landed in its tenant\'s default group; a web tier opens tcp/443');
  const web = (await strata('tenant-a', ['secgroup', 'create', '--name', 'web'], { json: true })) as { id: string };
  await strata('tenant-a', ['secgroup', 'rule', 'create', web.id, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', '443', '--remote-cidr', '0.0.0.0/0']);
  await strata('tenant-a', ['secgroup', 'list']);
  await strata('tenant-a', ['secgroup', 'rule', 'create', web.id, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', '0'], { expectFailure: true });

  say('the event log: who did what, when (tenant-a sees only its own events)');
  await strata('tenant-a', ['events', 'list', '--limit', '8']);

  say('the audit read model: the same log in PostgreSQL, asked in SQL (docs/pg-read-model.md)');
  await securityGroupHistory(web.id);
} catch (e) {
  failed = true;
  console.error(`demo failed: ${(e as Error).message}`);
}

/** Every version of a security group, who made it and until when it held: one SQL query on the read model. */
async function securityGroupHistory(groupId: string): Promise<void> {
  const sql = `SELECT version, event_type, actor, valid_from_seq AS from_position, valid_to_seq AS to_position, valid_from
FROM strata.versions_security_group WHERE resource_id = $1 ORDER BY version`;
  console.log(`\n$ psql ${cp.postgres!.url} -c "${sql.replace('$1', `'${groupId}'`)}"`);
  const db = new pg.Client({ connectionString: cp.postgres!.url });
  await db.connect();
  try {
    // The projector follows the log: wait for the group's creation and its rule (two versions).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await db.query(sql, [groupId]).catch(() => ({ rows: [] as Array<Record<string, unknown>> }));
      if (r.rows.length >= 2) {
        console.table(r.rows.map((row) => ({ ...row, valid_from: (row['valid_from'] as Date).toISOString() })));
        return;
      }
      if (Date.now() > deadline) throw new Error(`the read model did not show security group ${groupId} within 30 s`);
      await new Promise((res) => setTimeout(res, 100));
    }
  } finally {
    await db.end();
  }
}

/** Stop the control plane and remove its state (the demo's log lives only as long as the demo). */
const stopAll = async (): Promise<void> => {
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
};

if (failed || process.env['STRATA_DEMO_EXIT'] === '1') {
  await stopAll();
  process.exit(failed ? 1 : 0);
}

say('the control plane is running; try, in another terminal:');
console.log(`
  export STRATA_SERVER=${cp.apiAddr} ${Object.entries(cp.cliEnv).map(([k, v]) => `${k}=${v}`).join(' ')}
  export STRATA_TOKEN=${cp.tokens['tenant-a']}     # tenant-a (tenant-b: ${cp.tokens['tenant-b']}, admin: ${cp.tokens['admin']})
  node ${join(ROOT, 'cli/dist/main.js')} network list
  node ${join(ROOT, 'cli/dist/main.js')} port create --network <id>
  node ${join(ROOT, 'cli/dist/main.js')} events tail

Ctrl-C stops everything and removes its state (in ${dir} until then).`);
const shutdown = async (): Promise<void> => {
  say('stopping');
  await stopAll();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
