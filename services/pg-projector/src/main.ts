#!/usr/bin/env node
/**
 * strata-pg-projector            run the projector (active or standby)
 * strata-pg-projector rebuild    drop the model and create it empty: the
 *                                active projector replays the log into it
 */
import pg from 'pg';
import { loadConfig, runService } from '@strata/runtime';
import { rebuildModel } from './model.js';
import { pgProjectorConfig, pgProjectorService } from './service.js';

const command = process.argv[2];
if (command === 'rebuild') {
  try {
    const config = loadConfig(pgProjectorConfig);
    const db = new pg.Client({ connectionString: config.STRATA_PG_URL });
    await db.connect();
    try {
      await rebuildModel(db, config.STRATA_PG_SCHEMA);
    } finally {
      await db.end();
    }
    process.stdout.write(`the read model in schema ${config.STRATA_PG_SCHEMA} was dropped and created empty; the active projector replays the log from position 1\n`);
  } catch (err) {
    process.stderr.write(`rebuild failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
} else if (command !== undefined) {
  process.stderr.write(`unknown command ${JSON.stringify(command)}\nusage: strata-pg-projector [rebuild]\n`);
  process.exit(2);
} else {
  await runService(pgProjectorService);
}
