/**
 * One command followed end to end in its trace (issue 18, "Must show"): the
 * namespace lab's real services and two real agents export their spans over
 * OTLP/HTTP to a receiver in this test; a port created on hv1 through the
 * gRPC API (the real CLI) on a network where hv2 already has a port changes
 * both hosts' views. The receiver must get, in that command's one trace,
 * the API's span, IPAM's handling and append of the event, hostview's
 * derivation and its publish to each of the two hosts, and each agent's
 * pass applying that host's view, every span's parent among them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortView } from '@strata/contracts';
import { Lab } from '@strata/lab';
import { startOtlpReceiver, waitFor, type OtlpReceiver, type ReceivedSpan } from '@strata/testing';
import { strataCli, type StrataCli } from '../support/api.js';

interface Created {
  id: string;
}

describe('a command traced across the control plane and the agents (OTLP)', () => {
  let receiver: OtlpReceiver;
  let lab: Lab;
  let cli: StrataCli;
  let token: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // The standard variable, given to every service and agent the lab starts, as an operator would set it.
    lab = await Lab.start({ hypervisors: 2, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint } });
    const api = await lab.startApi({ 'tenant-a': { tenant: 'tenant-a' } });
    cli = strataCli(api.addr);
    token = api.tokens['tenant-a']!;
  });

  afterAll(async () => {
    await lab?.destroy();
    await receiver?.stop();
  });

  it("a port created on hv1 next to hv2's port: spans of the api, ipam, hostview and both agents, in one trace, parents intact", async () => {
    const net = await cli.json<Created>(token, ['network', 'create', '--name', 'traced']);
    await cli.json(token, ['subnet', 'create', '--network', net.id, '--cidr', '10.7.0.0/24']);
    await cli.json<PortView>(token, ['port', 'create', '--network', net.id, '--host', 'hv2', '--device', 'vm-b']);

    const port = await cli.json<PortView>(token, ['port', 'create', '--network', net.id, '--host', 'hv1', '--device', 'vm-a']);

    // The command's trace: the one IPAM's append of this port's event is in.
    const traceId = await waitFor(
      () => {
        const append = receiver.spans.find((s) => s.service === 'ipam' && s.name.startsWith('append ') && s.attributes['strata.resource'] === port.id);
        if (append) return append.traceId;
        throw new Error(`received: ${[...new Set(receiver.spans.map((s) => `${s.service}: ${s.name}`))].join(', ')}; refused: ${receiver.rejected.join('; ')}`);
      },
      { timeoutMs: 30_000, intervalMs: 100, message: "IPAM's append span of the port" },
    );
    const inTrace = (): ReceivedSpan[] => receiver.spans.filter((s) => s.traceId === traceId);
    const appliedBy = (host: string): ReceivedSpan | undefined => inTrace().find((s) => s.service === `agent-${host}` && s.name === 'agent apply');
    await waitFor(
      () => {
        if (appliedBy('hv1') && appliedBy('hv2')) return true;
        throw new Error(`so far: ${inTrace().map((s) => `${s.service}: ${s.name}`).join(', ')}`);
      },
      { timeoutMs: 30_000, intervalMs: 100, message: `both agents' spans in trace ${traceId}` },
    );
    expect(receiver.rejected).toEqual([]);

    const spans = inTrace();
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: ReceivedSpan): ReceivedSpan | undefined => (s.parentSpanId === undefined ? undefined : byId.get(s.parentSpanId));
    const path = (s: ReceivedSpan): string[] => {
      const out: string[] = [];
      for (let at: ReceivedSpan | undefined = s; at !== undefined; at = parentOf(at)) out.unshift(`${at.service}: ${at.name}`);
      return out;
    };

    // One root, the API's: every other span's parent arrived, in this trace.
    const roots = spans.filter((s) => s.parentSpanId === undefined);
    expect(roots.map((s) => `${s.service}: ${s.name}`)).toEqual(['api: grpc CreatePort']);
    for (const s of spans) if (s.parentSpanId !== undefined) expect(byId.has(s.parentSpanId), `parent of ${s.service}: ${s.name}`).toBe(true);

    // Each agent's pass hangs under hostview's publish to its own host, under the derivation of an event IPAM appended for this command.
    for (const host of ['hv1', 'hv2']) {
      const chain = path(appliedBy(host)!);
      expect(chain[0]).toBe('api: grpc CreatePort');
      expect(chain.slice(-3)).toEqual(['hostview: hostview derive', 'hostview: hostview publish', `agent-${host}: agent apply`]);
      expect(parentOf(appliedBy(host)!)!.attributes['strata.host']).toBe(host);
      expect(chain.some((step) => step.startsWith('ipam: append '))).toBe(true);
    }
    // IPAM handled the command (its request span) and appended under it.
    const append = spans.find((s) => s.service === 'ipam' && s.attributes['strata.resource'] === port.id)!;
    expect(path(append)).toEqual(['api: grpc CreatePort', expect.stringMatching(/^ipam: strata\./), `ipam: ${append.name}`]);
  });
});
