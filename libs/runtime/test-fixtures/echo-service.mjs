// A minimal service for lifecycle.int.spec.ts: runs the built runtime the way a real service's main does.
// It plays IPAM (NATS user ipam may serve only strata.{cmd,qry}.ipam.>), answering one query, `echo`.
import { z } from 'zod';
import { commandVerifierFrom, handler, runService, serve } from '@strata/runtime';

await runService({
  name: 'ipam',
  config: z.object({ ECHO_FAIL_START: z.enum(['yes', 'no']).default('no') }),
  async start({ nc, logger, metrics, config }) {
    if (config.ECHO_FAIL_START === 'yes') throw new Error('refusing to start');
    const handle = await serve(nc, {
      subjectPrefix: 'strata.qry.ipam',
      queue: 'ipam',
      logger,
      metrics,
      verifier: commandVerifierFrom(config, 'ipam'),
      handlers: { echo: handler(z.object({ text: z.string() }), async ({ text }) => ({ result: text })) },
    });
    return async () => {
      await handle.drain();
      logger.info('echo drained');
    };
  },
});
