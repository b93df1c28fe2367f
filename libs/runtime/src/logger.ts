import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

/**
 * JSON logger for one service. `destination` exists so tests can capture
 * output; services log to stdout and let the platform ship it.
 */
export function createLogger(service: string, level: LogLevel = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service, pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // stdout written synchronously: pino's default asynchronous stream let lines logged in order reach the pipe out of
  // order (a shutdown's "stopped" before the "drained" logged ahead of it), and may drop the last ones at exit.
  // Services log a few lines per operation, so the write cost does not matter.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}

export interface CorrelationFields {
  correlationId?: string;
  traceId?: string;
  requestId?: string;
  [key: string]: unknown;
}

/** Child logger whose every line can be joined to one external request and its trace. */
export function withCorrelation(logger: Logger, fields: CorrelationFields): Logger {
  const bindings = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return logger.child(bindings);
}
