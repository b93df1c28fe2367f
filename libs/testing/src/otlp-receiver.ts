/**
 * An OTLP/HTTP trace receiver for tests: what an OpenTelemetry collector's
 * `otlphttp` receiver does, for the JSON encoding the services' exporter
 * sends (`POST /v1/traces`, ExportTraceServiceRequest as JSON, ids in hex).
 * It keeps every span it got, flattened with its resource's `service.name`.
 * A body it cannot decode is answered 400 and recorded in `rejected`, so a
 * test sees an exporter it does not understand instead of waiting in vain.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';

export type AttributeValue = string | number | boolean | undefined;

/** One received span. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Undefined for a trace's root span. */
  parentSpanId: string | undefined;
  name: string;
  attributes: Record<string, AttributeValue>;
}

export interface OtlpReceiver {
  /** The base endpoint, for OTEL_EXPORTER_OTLP_ENDPOINT (`/v1/traces` is appended by the exporter). */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Why each undecodable request was refused. */
  rejected: string[];
  stop(): Promise<void>;
}

interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: OtlpKeyValue[];
}
interface OtlpTraceRequest {
  resourceSpans?: Array<{ resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
}

const HEX_ID = /^[0-9a-f]+$/;

function valueOf(v: OtlpAnyValue | undefined): AttributeValue {
  if (v === undefined) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return v.boolValue;
}

const attributesOf = (kvs: OtlpKeyValue[] | undefined): Record<string, AttributeValue> =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, valueOf(kv.value)]));

/** The spans of one request body; throws when it is not an OTLP JSON trace request with hex ids. */
export function decodeOtlpJson(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString('utf8')) as OtlpTraceRequest;
  if (typeof request !== 'object' || request === null || !Array.isArray(request.resourceSpans)) throw new Error('no resourceSpans');
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans) {
    const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        if (!HEX_ID.test(s.traceId) || !HEX_ID.test(s.spanId)) throw new Error(`span ${s.name}: ids are not hex (${s.traceId}/${s.spanId})`);
        const parent = s.parentSpanId ? s.parentSpanId : undefined;
        out.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: parent, name: s.name, attributes: attributesOf(s.attributes) });
      }
    }
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Listen on a free loopback port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const rejected: string[] = [];
  const refuse = (res: ServerResponse, why: string): void => {
    rejected.push(why);
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: why }));
  };
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') return refuse(res, `${req.method} ${req.url}: not POST /v1/traces`);
      if (!String(req.headers['content-type']).startsWith('application/json')) return refuse(res, `content-type ${req.headers['content-type']}: only application/json is decoded here`);
      try {
        const raw = await readBody(req);
        spans.push(...decodeOtlpJson(req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw));
      } catch (err) {
        return refuse(res, err instanceof Error ? err.message : String(err));
      }
      // An empty ExportTraceServiceResponse: everything accepted.
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('OTLP receiver: no TCP address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    spans,
    rejected,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
