/**
 * The health checker: the agent on an appliance's host (the host of a
 * service function's ingress port: a port in its own view) runs the
 * function's health check and reports transitions to the chaining service
 * (`strata.status.<host>.health`, libs/contracts/src/observations.ts).
 *
 * A probe runs from inside the router's domain namespace toward the
 * function's ingress address (what the steering routes send traffic to):
 * ICMP is one `ping -c 1 -W <timeout>`; TCP is a connect by bash's
 * `/dev/tcp` under `timeout`. One short process per probe (`ip netns exec`
 * + ping or bash, ~2–3 ms of CPU each): at the default one-second interval a
 * handful of functions per host cost well under 1 % of a core, and nothing
 * stays running inside a namespace the dataplane may delete.
 *
 * Every transition is published at once, and every function's current
 * state again every `republishMs` (10 s) once it has been probed, so the
 * chaining service converges after a lost message or its own restart.
 * Rise/fall counting is the pure part (health-core.ts).
 */
import { healthObservationSubject, type HealthCheck, type HealthObservation } from '@strata/contracts';
import { usableLeg } from '../core/chaining.js';
import { domainNamespace } from '../core/names.js';
import type { HostViewSnapshot } from '../core/snapshot.js';
import type { Exec } from '../kernel/exec.js';
import type { AgentLogger } from '../logger.js';
import { countProbe, healthDetail, initialHealth, type HealthState } from './health-core.js';

/** One function this host checks. */
export interface HealthTarget {
  functionId: string;
  /** The router's domain namespace on this host. */
  ns: string;
  /** The function's ingress address: IPv4, or IPv6 for an appliance without a routable IPv4 address. */
  ip: string;
  check: HealthCheck;
  /** What the chaining service last decided (the starting state). */
  healthy: boolean;
}

/** The functions whose ingress port is on this host and that have a health check, from the view. Pure. */
export function healthTargets(view: HostViewSnapshot, nsPrefix: string): HealthTarget[] {
  const out = new Map<string, HealthTarget>();
  for (const c of Object.values(view.chains)) {
    for (const hop of c.hops) {
      for (const m of hop.members) {
        if (m.healthCheck === null || !view.ports[m.ingress.portId] || out.has(m.functionId)) continue;
        const leg = usableLeg(view, c.domainId, m.ingress, 4) ?? usableLeg(view, c.domainId, m.ingress, 6);
        if (!leg) continue;
        out.set(m.functionId, { functionId: m.functionId, ns: domainNamespace(nsPrefix, c.domainId), ip: leg.ip, check: m.healthCheck, healthy: m.healthy });
      }
    }
  }
  return [...out.values()].sort((a, b) => (a.functionId < b.functionId ? -1 : 1));
}

/** The probe's command line (run through the agent's Exec, so inside the managed namespace's view of named namespaces). */
export function probeArgv(t: Pick<HealthTarget, 'ns' | 'ip' | 'check'>): string[] {
  const seconds = (Math.max(1, t.check.timeoutMs) / 1000).toFixed(3);
  if (t.check.protocol === 'icmp') return ['ip', 'netns', 'exec', t.ns, 'ping', '-n', '-q', '-c', '1', '-W', seconds, t.ip];
  return ['ip', 'netns', 'exec', t.ns, 'timeout', seconds, 'bash', '-c', 'exec 3<>"/dev/tcp/$0/$1"', t.ip, String(t.check.port ?? 0)];
}

export interface HealthCheckerOptions {
  hostId: string;
  exec: Exec;
  nsPrefix: string;
  publish(subject: string, observation: HealthObservation): void;
  /** The current view (computed on access): read after a change, debounced. */
  view?: () => HostViewSnapshot | null;
  logger?: AgentLogger;
  republishMs?: number;
}

interface Running {
  target: HealthTarget;
  state: HealthState;
  lastError: string | null;
  timer: NodeJS.Timeout;
  probing: boolean;
  lastPublished: number;
}

export class HealthChecker {
  private readonly running = new Map<string, Running>();
  private stopped = false;
  private pending: NodeJS.Timeout | null = null;

  constructor(private readonly o: HealthCheckerOptions) {}

  /** The host view changed: look at it again shortly (a burst of changes is one look; the view is built on access). */
  viewChanged(): void {
    if (this.stopped || this.pending || !this.o.view) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.update(this.o.view!());
    }, 500);
    this.pending.unref?.();
  }

  /** Check what the view says this host must check: new functions start, gone ones stop, a changed check restarts. */
  update(view: HostViewSnapshot | null): void {
    if (this.stopped) return;
    const targets = view ? healthTargets(view, this.o.nsPrefix) : [];
    const want = new Map(targets.map((t) => [t.functionId, t]));
    for (const [id, r] of this.running) {
      const t = want.get(id);
      if (!t || JSON.stringify({ ...t, healthy: null }) !== JSON.stringify({ ...r.target, healthy: null })) {
        clearInterval(r.timer);
        this.running.delete(id);
      }
    }
    for (const t of targets) if (!this.running.has(t.functionId)) this.start(t);
  }

  /** The functions checked now (for tests and status). */
  checking(): string[] {
    return [...this.running.keys()].sort();
  }

  stop(): void {
    this.stopped = true;
    if (this.pending) clearTimeout(this.pending);
    for (const r of this.running.values()) clearInterval(r.timer);
    this.running.clear();
  }

  private start(target: HealthTarget): void {
    const r: Running = { target, state: initialHealth(target.healthy), lastError: null, probing: false, lastPublished: 0, timer: setInterval(() => void this.probe(r), Math.max(100, target.check.intervalMs)) };
    r.timer.unref?.();
    this.running.set(target.functionId, r);
    void this.probe(r);
  }

  private async probe(r: Running): Promise<void> {
    // A probe slower than the interval is not stacked: the next tick finds it still running.
    if (r.probing) return;
    r.probing = true;
    try {
      const res = await this.o.exec.run(probeArgv(r.target));
      if (this.running.get(r.target.functionId) !== r) return;
      const ok = res.code === 0;
      r.lastError = ok ? null : res.stderr.trim().split('\n')[0] || `exit ${res.code}`;
      const { state, changed } = countProbe(r.state, ok, r.target.check);
      r.state = state;
      const now = Date.now();
      if (changed || now - r.lastPublished >= (this.o.republishMs ?? 10_000)) {
        if (changed) this.o.logger?.info({ functionId: r.target.functionId, healthy: state.healthy, target: r.target.ip }, 'service function health changed');
        this.publish(r);
        r.lastPublished = now;
      }
    } catch (err) {
      this.o.logger?.warn({ err, functionId: r.target.functionId }, 'health probe could not run');
    } finally {
      r.probing = false;
    }
  }

  private publish(r: Running): void {
    const t = r.target;
    const observation: HealthObservation = {
      hostId: this.o.hostId,
      functionId: t.functionId,
      healthy: r.state.healthy,
      detail: healthDetail(t.check, t.ip, r.state.healthy, r.lastError),
    };
    this.o.publish(healthObservationSubject(this.o.hostId), observation);
  }
}
