/**
 * What a check may answer besides a plain boolean: ready, yet degraded (the
 * service serves, but something needs an operator), with detail for /readyz.
 */
export interface CheckStatus {
  ok: boolean;
  degraded?: boolean;
  detail?: unknown;
}

/** A readiness check: resolves true (or `{ok: true}`) when ready; false or a throw means not ready. */
export type ReadinessCheck = () => boolean | CheckStatus | Promise<boolean | CheckStatus>;

export interface CheckResult {
  ok: boolean;
  /** Why a throwing check failed. */
  error?: string;
  degraded?: boolean;
  detail?: unknown;
}

export interface ReadinessReport {
  ready: boolean;
  /** Some check reported itself degraded (readiness is unaffected). */
  degraded: boolean;
  checks: Record<string, CheckResult>;
}

/** A check whose state the service sets itself, e.g. when its projection has caught up. */
export interface ReadinessFlag {
  set(ready: boolean): void;
}

/**
 * What /readyz asks. A service is ready only when every check passes, so a
 * load balancer or orchestrator holds traffic until e.g. projections caught up.
 */
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    if (this.checks.has(name)) throw new Error(`readiness check ${name} is already registered`);
    this.checks.set(name, check);
  }

  /** Register a check that starts not ready and flips when the service says so. */
  flag(name: string, initial = false): ReadinessFlag {
    let ready = initial;
    this.register(name, () => ready);
    return { set: (value) => void (ready = value) };
  }

  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, CheckResult]> => {
        try {
          const answer = await check();
          if (typeof answer === 'boolean') return [name, { ok: answer }];
          const result: CheckResult = { ok: answer.ok === true };
          if (answer.degraded) result.degraded = true;
          if (answer.detail !== undefined) result.detail = answer.detail;
          return [name, result];
        } catch (err) {
          return [name, { ok: false, error: err instanceof Error ? err.message : String(err) }];
        }
      }),
    );
    return { ready: entries.every(([, r]) => r.ok), degraded: entries.some(([, r]) => r.degraded === true), checks: Object.fromEntries(entries) };
  }
}
