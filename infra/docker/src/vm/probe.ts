/**
 * A reachability probe's outcome, told apart from a probe that did not run.
 * A check that expects a refusal passes only when the probe ran and the
 * network gave no connection or reply: a probe that could not run (no such
 * VM, a tool missing, `docker exec` failing, a bad address) proves nothing
 * and fails the check.
 *
 * Both ends use this file: strata-vm, in the hypervisor, turns what busybox
 * nc or ping did into its exit code (`probeExitCode`); the demo job reads
 * that code back through the Docker Engine API (`readProbe`).
 */

export type Probe = 'connect' | 'ping';

/** strata-vm connect/ping exit codes: 0 a connection or a reply, 3 none; anything else, the probe did not run. */
export const PROBE_ANSWERED = 0;
export const PROBE_NO_ANSWER = 3;

/** busybox nc's messages when it ran and the network gave no connection (refused, dropped, unreachable). */
const NC_NO_CONNECTION = /: (Connection refused|No route to host|Host is unreachable|Network is unreachable)$|^nc: timed out$/m;

/**
 * What nc (`busybox nc -w N ip port`) or iputils ping (`-c 1 -W 1`) saw, from
 * its exit status and stderr: ping exits 1 for no reply and 2 for an error;
 * nc exits 1 for both, so its message tells them apart.
 */
export function probeExitCode(probe: Probe, status: number | null, stderr: string): number {
  if (status === 0) return PROBE_ANSWERED;
  if (probe === 'ping') return status === 1 ? PROBE_NO_ANSWER : failedCode(status);
  return status === 1 && NC_NO_CONNECTION.test(stderr.trim()) ? PROBE_NO_ANSWER : failedCode(status);
}

/** A failure code that is neither 0 nor PROBE_NO_ANSWER (a killed probe has no status). */
function failedCode(status: number | null): number {
  return status === null || status === PROBE_ANSWERED || status === PROBE_NO_ANSWER ? 1 : status;
}

export type ProbeReading =
  | { kind: 'answered'; stdout: string }
  | { kind: 'no-answer' }
  | { kind: 'failed'; why: string };

/** The demo's side: strata-vm's exit code and output, as returned by `docker exec`. */
export function readProbe(r: { code: number; stdout: string; stderr: string }): ProbeReading {
  if (r.code === PROBE_ANSWERED) return { kind: 'answered', stdout: r.stdout };
  if (r.code === PROBE_NO_ANSWER) return { kind: 'no-answer' };
  const said = `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-3).join(' | ');
  return { kind: 'failed', why: `the probe did not run (exit ${r.code}${said ? `: ${said}` : ''})` };
}
