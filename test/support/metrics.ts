/** A process's Prometheus metrics, read from its HTTP endpoint (a free port, found in its start-up log). */
import type { ManagedProcess } from '@strata/lab';

/** The sum of a metric's series (every label set) as `p` serves it now. */
export async function metric(p: ManagedProcess, name: string): Promise<number> {
  const http = [...p.output().matchAll(/"http":"(127\.0\.0\.1:\d+)"/g)].at(-1)?.[1];
  if (!http) throw new Error(`${p.name} has not logged its HTTP address`);
  const text = await (await fetch(`http://${http}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
}
