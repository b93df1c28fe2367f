import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, withCorrelation } from './logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines };
}

describe('createLogger', () => {
  it('writes JSON lines bound to the service', () => {
    const out = capture();
    createLogger('ipam', 'info', out.stream).info({ network: 'n1' }, 'created');
    expect(out.lines()).toEqual([expect.objectContaining({ service: 'ipam', network: 'n1', msg: 'created', level: 30 })]);
  });

  it('honours the level', () => {
    const out = capture();
    const logger = createLogger('ipam', 'warn', out.stream);
    logger.info('hidden');
    logger.warn('shown');
    expect(out.lines().map((l) => l['msg'])).toEqual(['shown']);
  });

  it('adds correlation fields and leaves out absent ones', () => {
    const out = capture();
    const logger = withCorrelation(createLogger('api', 'info', out.stream), { correlationId: 'c1', traceId: undefined });
    logger.info('x');
    const [line] = out.lines();
    expect(line).toMatchObject({ service: 'api', correlationId: 'c1' });
    expect(line).not.toHaveProperty('traceId');
  });
});
