import { describe, expect, it } from 'vitest';
import { parseNatsReplicas } from './replicas.js';

describe('STRATA_NATS_REPLICAS', () => {
  it('is 1 when unset or empty', () => {
    expect(parseNatsReplicas({})).toBe(1);
    expect(parseNatsReplicas({ STRATA_NATS_REPLICAS: '' })).toBe(1);
  });

  it('takes a whole number from 1 to 5', () => {
    expect(parseNatsReplicas({ STRATA_NATS_REPLICAS: '3' })).toBe(3);
    expect(parseNatsReplicas({ STRATA_NATS_REPLICAS: ' 5 ' })).toBe(5);
  });

  it.each(['0', '6', '-1', '2.5', 'three', '3x', '1e1'])('refuses %j, naming the variable and the range', (value) => {
    expect(() => parseNatsReplicas({ STRATA_NATS_REPLICAS: value })).toThrow(
      `STRATA_NATS_REPLICAS must be a whole number from 1 to 5 (JetStream's limit), got ${JSON.stringify(value)}`,
    );
  });
});
