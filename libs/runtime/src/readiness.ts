/** A readiness check: resolves true when ready; false or a throw means not ready. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface CheckResult {
  ok: boolean;
  /** Why a throwing check failed. */
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
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
          return [name, { ok: (await check()) === true }];
        } catch (err) {
          return [name, { ok: false, error: err instanceof Error ? err.message : String(err) }];
        }
      }),
    );
    return { ready: entries.every(([, r]) => r.ok), checks: Object.fromEntries(entries) };
  }
}
