import { describe, expect, it } from 'vitest';
import { PROBE_ANSWERED, PROBE_NO_ANSWER, probeExitCode, readProbe } from './probe.js';

describe('strata-vm probe exit codes', () => {
  it('a completed connection or a reply is answered', () => {
    expect(probeExitCode('connect', 0, '')).toBe(PROBE_ANSWERED);
    expect(probeExitCode('ping', 0, '')).toBe(PROBE_ANSWERED);
  });

  it("nc's refusals, timeouts and unreachables (busybox's own messages) are no answer", () => {
    for (const said of [
      "nc: can't connect to remote host (10.0.1.31): Connection refused",
      'nc: timed out',
      "nc: can't connect to remote host (10.0.2.5): No route to host",
      "nc: can't connect to remote host (10.0.2.5): Host is unreachable",
      "nc: can't connect to remote host (10.8.8.8): Network is unreachable\n",
    ]) expect(probeExitCode('connect', 1, said)).toBe(PROBE_NO_ANSWER);
  });

  it('nc that did not run is a failure, not a refusal', () => {
    expect(probeExitCode('connect', 1, "nc: bad address '10.9.9.300'")).toBe(1);
    expect(probeExitCode('connect', 1, 'exec of "busybox" failed: No such file or directory')).toBe(1);
    expect(probeExitCode('connect', 255, 'Cannot open network namespace "vm-x": No such file or directory')).toBe(255);
    expect(probeExitCode('connect', 1, '')).toBe(1);
    expect(probeExitCode('connect', null, '')).toBe(1); // killed
  });

  it('ping: exit 1 is no reply, exit 2 an error, and an exit code of 3 is never passed through as no answer', () => {
    expect(probeExitCode('ping', 1, '')).toBe(PROBE_NO_ANSWER);
    expect(probeExitCode('ping', 2, 'ping: connect: Network is unreachable')).toBe(2);
    expect(probeExitCode('ping', 3, '')).toBe(1);
  });
});

describe('the demo reading a probe through docker exec', () => {
  it('exit 0 is an answer with what the VM said, exit 3 no answer', () => {
    expect(readProbe({ code: 0, stdout: 'a-w1\n', stderr: '' })).toEqual({ kind: 'answered', stdout: 'a-w1\n' });
    expect(readProbe({ code: PROBE_NO_ANSWER, stdout: '', stderr: 'nc: timed out' })).toEqual({ kind: 'no-answer' });
  });

  it('every other exit is a probe that did not run, with what it said', () => {
    // strata-vm's own error, docker exec of a missing binary, an exec without an exit code
    expect(readProbe({ code: 1, stdout: '', stderr: 'strata-vm: no VM a-w9 on this hypervisor' })).toEqual({ kind: 'failed', why: 'the probe did not run (exit 1: strata-vm: no VM a-w9 on this hypervisor)' });
    expect(readProbe({ code: 127, stdout: 'OCI runtime exec failed: exec: "strata-vm": executable file not found in $PATH', stderr: '' }).kind).toBe('failed');
    expect(readProbe({ code: -1, stdout: '', stderr: '' })).toEqual({ kind: 'failed', why: 'the probe did not run (exit -1)' });
    expect(readProbe({ code: 2, stdout: '', stderr: 'strata-vm: connect needs NAME IP PORT' }).kind).toBe('failed');
  });
});
