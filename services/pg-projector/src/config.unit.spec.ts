import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@strata/runtime';
import { pgProjectorConfig } from './service.js';

describe('pg-projector configuration', () => {
  it('needs a PostgreSQL URL; defaults to schema strata, 500 events a batch, no crash hook', () => {
    expect(loadConfig(pgProjectorConfig, { STRATA_PG_URL: 'postgres://x/y' })).toEqual({ STRATA_PG_URL: 'postgres://x/y', STRATA_PG_SCHEMA: 'strata', STRATA_PG_BATCH: 500, STRATA_PG_PROJECTOR_CRASH_AFTER_COMMIT: 0 });
    expect(() => loadConfig(pgProjectorConfig, {})).toThrow(/STRATA_PG_URL: missing/);
  });

  it('refuses a schema name it would have to quote (it is written into statements), a batch out of range, a probability over 1', () => {
    for (const [k, v] of [['STRATA_PG_SCHEMA', 'x; DROP TABLE y'], ['STRATA_PG_SCHEMA', 'Strata'], ['STRATA_PG_BATCH', '0'], ['STRATA_PG_PROJECTOR_CRASH_AFTER_COMMIT', '2']] as const) {
      expect(() => loadConfig(pgProjectorConfig, { STRATA_PG_URL: 'postgres://x/y', [k]: v })).toThrow(ConfigError);
      expect(() => loadConfig(pgProjectorConfig, { STRATA_PG_URL: 'postgres://x/y', [k]: v })).toThrow(new RegExp(k));
    }
  });
});
