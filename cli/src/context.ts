/** What every command needs: output, format and an API connection from the global options. */
import type { Command } from 'commander';
import { Api } from './client.js';
import { channelCredentials, plaintextFromEnv } from './transport-security.js';
import type { Format, Io } from './output.js';

export const DEFAULT_SERVER = '127.0.0.1:7443';

export interface CliEnv {
  STRATA_SERVER?: string | undefined;
  STRATA_TOKEN?: string | undefined;
  STRATA_CA?: string | undefined;
  STRATA_CERT?: string | undefined;
  STRATA_KEY?: string | undefined;
  STRATA_PLAINTEXT?: string | undefined;
}

interface GlobalOptions {
  server?: string;
  token?: string;
  ca?: string;
  cert?: string;
  key?: string;
  plaintext?: boolean;
  output: Format;
  requestId?: string;
  reason?: string;
}

export class CliContext {
  private api: Api | undefined;

  constructor(
    readonly io: Io,
    private readonly env: CliEnv,
    /** Aborted on Ctrl-C: long-running commands (events tail) end cleanly. */
    readonly interrupt?: AbortSignal,
  ) {}

  format(cmd: Command): Format {
    return cmd.optsWithGlobals<GlobalOptions>().output;
  }

  /** The connection, opened on first use (so `--help` and usage errors need no token). */
  connect(cmd: Command): Api {
    if (this.api) return this.api;
    const g = cmd.optsWithGlobals<GlobalOptions>();
    this.api = new Api({
      server: g.server ?? this.env.STRATA_SERVER ?? DEFAULT_SERVER,
      token: g.token ?? this.env.STRATA_TOKEN,
      credentials: channelCredentials({
        ca: g.ca ?? (this.env.STRATA_CA || undefined),
        cert: g.cert ?? (this.env.STRATA_CERT || undefined),
        key: g.key ?? (this.env.STRATA_KEY || undefined),
        plaintext: g.plaintext ?? plaintextFromEnv(this.env.STRATA_PLAINTEXT),
      }),
      requestId: g.requestId,
      reason: g.reason,
    });
    return this.api;
  }

  close(): void {
    this.api?.close();
    this.api = undefined;
  }
}
