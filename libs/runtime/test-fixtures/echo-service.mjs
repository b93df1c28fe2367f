// A minimal service for lifecycle.int.spec.ts: runs the built runtime the way a real service's main does.
import { z } from 'zod';
import { commandVerifierFrom, handler, runService, serve } from '@strata/runtime';

await runService({
  name: 'echo',
  config: z.object({ ECHO_FAIL_START: z.enum(['yes', 'no']).default('no') }),
  async start({ nc, logger, metrics, config }) {
    if (config.ECHO_FAIL_START === 'yes') throw new Error('refusing to start');
    const handle = await serve(nc, {
      subjectPrefix: 'strata.qry.echo',
      queue: 'echo',
      logger,
      metrics,
      verifier: commandVerifierFrom(config, 'echo'),
      handlers: { say: handler(z.object({ text: z.string() }), async ({ text }) => ({ result: text })) },
    });
    return async () => {
      await handle.drain();
      logger.info('echo drained');
    };
  },
});
