import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, baseConfigSchema, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies the base defaults to an empty environment', () => {
    expect(loadConfig(baseConfigSchema, {})).toEqual({
      NATS_URL: 'nats://127.0.0.1:4222',
      STRATA_HTTP_PORT: 0,
      STRATA_HTTP_HOST: '127.0.0.1',
      STRATA_LOG_LEVEL: 'info',
    });
  });

  it('coerces numbers from strings', () => {
    const config = loadConfig(baseConfigSchema, { STRATA_HTTP_PORT: '9102', NATS_USER: 'ipam', NATS_PASSWORD: 's3cret' });
    expect(config.STRATA_HTTP_PORT).toBe(9102);
    expect(config.NATS_USER).toBe('ipam');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig(baseConfigSchema, { STRATA_HTTP_PORT: '', NATS_USER: '' })).toMatchObject({ STRATA_HTTP_PORT: 0 });
    expect(loadConfig(baseConfigSchema, { NATS_USER: '' }).NATS_USER).toBeUndefined();
  });

  it('lists every bad and missing variable in one error', () => {
    const schema = baseConfigSchema.extend({ IPAM_POOL: z.string() });
    let caught: unknown;
    try {
      loadConfig(schema, { STRATA_HTTP_PORT: 'eighty', STRATA_LOG_LEVEL: 'loud' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['IPAM_POOL', 'STRATA_HTTP_PORT', 'STRATA_LOG_LEVEL']);
    expect(error.problems.find((p) => p.variable === 'IPAM_POOL')?.problem).toBe('missing');
    expect(error.message).toMatch(/^invalid configuration: /);
    expect(error.message).toContain('STRATA_HTTP_PORT: ');
    expect(error.message).toContain('STRATA_LOG_LEVEL: ');
    expect(error.message).toContain('IPAM_POOL: missing');
  });

  it('rejects out-of-range ports', () => {
    expect(() => loadConfig(baseConfigSchema, { STRATA_HTTP_PORT: '70000' })).toThrow(/STRATA_HTTP_PORT/);
  });
});
