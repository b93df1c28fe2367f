/** Integration-test support: real IPAM and gateway processes against a real nats-server (each as its production NATS user), NAT's events appended as the NAT service writes them. */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FloatingIpAssociated, FloatingIpDisassociated, natEvents, NAT_CONTEXT } from '@strata/contracts';
import type { EventStore, StoredEvent } from '@strata/eventlog';
import { startProcess, type ManagedProcess } from '@strata/lab';

const GATEWAY_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const IPAM_MAIN = join(dirname(createRequire(import.meta.url).resolve('@strata/ipam')), 'main.js');

const baseEnv = (natsUrl: string): Record<string, string> => ({ NATS_URL: natsUrl, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0' });

/** `env`: e.g. the ipam NATS user's credentials (StrataNats.env('ipam')). */
export function startIpam(natsUrl: string, env: Record<string, string> = {}): ManagedProcess {
  return startProcess('ipam', [process.execPath, IPAM_MAIN], { env: { ...baseEnv(natsUrl), ...env } });
}

/** `env`: the bgp NATS user's credentials (StrataNats.env('bgp')) and the gateway's own settings. */
export function startGateway(natsUrl: string, name: string, env: Record<string, string>): ManagedProcess {
  return startProcess(name, [process.execPath, GATEWAY_MAIN], {
    env: { ...baseEnv(natsUrl), STRATA_SERVICE_NAME: 'bgp', BGP_SETTLE_MS: '2000', BGP_RESYNC_MS: '10000', ...env },
  });
}

/** Append a NAT floating-IP event to the log exactly as the NAT service does (its own aggregate, OCC on its version). */
export async function appendNat(
  store: EventStore,
  floatingIpId: string,
  event:
    | { type: typeof FloatingIpAssociated.type; data: Parameters<typeof FloatingIpAssociated.schema.parse>[0] }
    | { type: typeof FloatingIpDisassociated.type; data: Parameters<typeof FloatingIpDisassociated.schema.parse>[0] },
): Promise<number> {
  const aggregate = { context: NAT_CONTEXT, type: 'floatingip', id: floatingIpId };
  const version = await store.lastSeq(`strata.evt.${NAT_CONTEXT}.floatingip.${floatingIpId}`);
  const encoded = natEvents.encode(event.type, event.data);
  const id = randomUUID();
  const r = await store.append(
    aggregate,
    {
      id,
      type: event.type,
      version: encoded.version,
      aggregate,
      data: encoded.data,
      tenant: 'tenant-a',
      actor: 'nat',
      occurredAt: new Date().toISOString(),
      correlationId: id,
      causationId: null,
    },
    { expectedVersion: version === 0 ? 'none' : version },
  );
  return r.seq;
}

export async function eventsOf(store: EventStore, subject: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.read({ subject })) out.push(e);
  return out;
}

/** One metric's value from a Prometheus text page (sum over series matching `labels`). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/** The gateway's /metrics, found from the address it logs at start. */
export async function scrapeMetrics(process: ManagedProcess): Promise<string> {
  const m = /"http":"([^"]+)"/.exec(process.output());
  if (!m) throw new Error(`${process.name} has not logged its HTTP address`);
  return (await fetch(`http://${m[1]}/metrics`)).text();
}
