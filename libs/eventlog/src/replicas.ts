/**
 * How many replicas every stream, key-value bucket and object store Strata
 * creates has: `STRATA_NATS_REPLICAS` (default 1; 3 on a three-node
 * cluster). One setting, read here and nowhere else, so the event log, the
 * snapshot buckets and the host-view buckets never disagree (see
 * docs/architecture.md, "Clustered NATS"). JetStream allows 1 to 5.
 */
export const NATS_REPLICAS_VAR = 'STRATA_NATS_REPLICAS';

/** Parse the setting from an environment; a bad value is an error that names the variable. */
export function parseNatsReplicas(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env[NATS_REPLICAS_VAR]?.trim();
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 5) {
    throw new Error(`${NATS_REPLICAS_VAR} must be a whole number from 1 to 5 (JetStream's limit), got ${JSON.stringify(raw)}`);
  }
  return n;
}

let cached: number | undefined;

/** This process's replica count (read from its environment once). */
export function natsReplicas(): number {
  cached ??= parseNatsReplicas(process.env);
  return cached;
}
