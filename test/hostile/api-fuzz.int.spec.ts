/**
 * Issue 11 ("Must show"): a property-based fuzz test of the gRPC API.
 * For every method of every service (found from the service definitions),
 * against the real API process with real services (startControlPlane):
 *
 * - random bytes: the API answers OK only if the bytes are a valid request
 *   by an independent reference check (validRequest below, built on
 *   protobufjs's reader, not on the API's decoder); a request it refuses is
 *   INVALID_ARGUMENT and writes no event;
 * - well-shaped requests with exactly one out-of-range value (a text or a
 *   list over its bound, an enum number outside the enum, an unknown field,
 *   invalid UTF-8): always INVALID_ARGUMENT, no event;
 * - after every case the API still answers.
 *
 * Bounded: NUM_RUNS cases per method and property, fixed seed.
 */
import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestListBounds, requestTextBounds } from '@strata/contracts';
import { INTERNAL_TEXT, allMethods, startApiUnderAttack, type ApiUnderAttack, type Outcome } from './api-boundary.js';

const NUM_RUNS = 16;
const SEED = 20261206;
const methods = allMethods();

describe('hostile: fuzzing every gRPC method', () => {
  let api: ApiUnderAttack;
  beforeAll(async () => {
    api = await startApiUnderAttack();
  });
  afterAll(async () => api?.stop());

  /** Sends one case; checks the verdict, that a refusal wrote nothing, and that the API still answers. */
  async function attempt(path: string, body: Uint8Array, mustRefuse: boolean): Promise<Outcome> {
    const before = await api.lastSeq();
    const r = await api.call(path, body);
    if (mustRefuse) {
      expect(r.code, `${path} ${Buffer.from(body).toString('hex').slice(0, 200)}: ${r.details}`).toBe(status.INVALID_ARGUMENT);
    }
    expect([status.INTERNAL, status.UNKNOWN], `${path}: ${r.details}`).not.toContain(r.code);
    expect(r.details).not.toMatch(INTERNAL_TEXT);
    if (r.code !== status.OK) expect(await api.lastSeq(), `${path} refused but wrote an event`).toBe(before);
    expect((await api.call('/strata.v1.NetworkService/ListNetworks', new Uint8Array())).code).toBe(status.OK);
    return r;
  }

  it('covers every method of the API', () => {
    expect(methods.length).toBeGreaterThan(60);
    expect(methods.map((m) => m.path)).toContain('/strata.v1.EventService/Watch');
  });

  it.each(methods.map((m) => [m.path, m]))('%s: random bytes are OK only when they are a valid request', async (_path, m) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 96 }), async (bytes) => {
        const r = await attempt(m.path, bytes, false);
        if (r.code === status.OK) expect(validRequest(m.type, bytes), `${m.path} accepted ${Buffer.from(bytes).toString('hex')}`).toBe(true);
        if (!validRequest(m.type, bytes)) expect(r.code).toBe(status.INVALID_ARGUMENT);
      }),
      { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true },
    );
  });

  it.each(methods.map((m) => [m.path, m]))('%s: one out-of-range value is always INVALID_ARGUMENT', async (_path, m) => {
    await fc.assert(
      fc.asyncProperty(wellShaped(m.type), violation(m.type), async (request, spoil) => {
        await attempt(m.path, spoil(request), true);
      }),
      { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true },
    );
  });
});

// ---- generators -------------------------------------------------------------

/** A request object with every field plausible and within its bound. */
function wellShaped(type: protobuf.Type): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of type.fieldsArray) {
    const one = valueOf(f);
    fields[f.name] = f.repeated ? fc.array(one, { maxLength: Math.min(3, requestListBounds[f.name] ?? 0) }) : one;
  }
  return fc.record(fields, { requiredKeys: [] });
}

function valueOf(f: protobuf.Field): fc.Arbitrary<unknown> {
  const t = f.resolve().resolvedType;
  if (t instanceof protobuf.Enum) return fc.constantFrom(...Object.values(t.values));
  if (t instanceof protobuf.Type) return wellShaped(t);
  switch (f.type) {
    case 'string':
      return fc.string({ maxLength: Math.min(20, requestTextBounds[f.name] ?? 0) });
    case 'bool':
      return fc.boolean();
    case 'uint64':
      return fc.bigInt({ min: 0n, max: 2n ** 53n }).map(String);
    default:
      return fc.integer({ min: 0, max: 70_000 });
  }
}

type Spoil = (request: Record<string, unknown>) => Uint8Array;

/** One way to put a single value out of range, among those the message type allows. */
function violation(type: protobuf.Type): fc.Arbitrary<Spoil> {
  const encode = (r: Record<string, unknown>): Uint8Array => type.encode(type.fromObject(r)).finish();
  const options: fc.Arbitrary<Spoil>[] = [
    // A field number the message does not define (wire type 0, 2 or 5 with a fitting value).
    fc.tuple(fc.integer({ min: maxFieldNumber(type) + 1, max: 536_870_911 }), fc.constantFrom(0, 2, 5)).map(
      ([n, wire]) => (r) => concat(encode(r), tag(n, wire), wire === 0 ? [1] : wire === 2 ? [1, 0x61] : [0, 0, 0, 0]),
    ),
  ];
  for (const f of type.fieldsArray) {
    const t = f.resolve().resolvedType;
    if (f.type === 'string') {
      const max = requestTextBounds[f.name]!;
      options.push(
        fc.integer({ min: max + 1, max: max + 2000 }).map((len) => (r) => {
          const over = 'x'.repeat(len);
          return encode({ ...r, [f.name]: f.repeated ? [over] : over });
        }),
        fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]).map(
          (bad) => (r) => concat(encode(without(r, f.name)), tag(f.id, 2), [bad.length, ...bad]),
        ),
      );
    }
    if (t instanceof protobuf.Enum) {
      const defined = new Set(Object.values(t.values));
      options.push(
        fc
          .integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
          .filter((v) => !defined.has(v))
          .map((v) => (r) => encode({ ...r, [f.name]: v })),
      );
    }
    if (f.repeated) {
      const max = requestListBounds[f.name]!;
      const one = f.type === 'string' ? 'x' : {};
      options.push(fc.integer({ min: max + 1, max: max + 50 }).map((n) => (r) => encode({ ...r, [f.name]: Array.from({ length: n }, () => one) })));
    }
  }
  return fc.oneof(...options);
}

const without = (r: Record<string, unknown>, key: string): Record<string, unknown> => Object.fromEntries(Object.entries(r).filter(([k]) => k !== key));
const maxFieldNumber = (type: protobuf.Type): number => Math.max(0, ...type.fieldsArray.map((f) => f.id));

function tag(field: number, wire: number): number[] {
  return varint(BigInt(field) * 8n + BigInt(wire));
}

function varint(v: bigint): number[] {
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return out;
}

function concat(a: Uint8Array, ...parts: number[][]): Uint8Array {
  return Uint8Array.from([...a, ...parts.flat()]);
}

// ---- the reference check ------------------------------------------------------

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Is `bytes` a valid request of `type`, judged with protobufjs's own reader:
 * every field known and of its wire type, nothing truncated, strings UTF-8,
 * enums defined, bools 0/1, uint32 in range, every text and list within the
 * bounds of @strata/contracts.
 */
function validRequest(type: protobuf.Type, bytes: Uint8Array): boolean {
  try {
    return walk(type, bytes);
  } catch {
    return false;
  }
}

function walk(type: protobuf.Type, bytes: Uint8Array): boolean {
  const r = protobuf.Reader.create(bytes);
  const counts = new Map<string, number>();
  while (r.pos < r.len) {
    const t = r.uint32();
    const f = type.fieldsById[t >>> 3];
    if (f === undefined) return false;
    const target = f.resolve().resolvedType;
    const wire = t & 7;
    const expected = target instanceof protobuf.Type ? 2 : target instanceof protobuf.Enum ? 0 : (protobuf.types.basic as Record<string, number>)[f.type];
    if (wire !== expected) return false; // (packed encoding does not occur: no repeated scalar in the requests)
    counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
    if (wire === 0) {
      const v = BigInt(r.uint64().toString());
      if (target instanceof protobuf.Enum && target.valuesById[Number(BigInt.asIntN(32, v))] === undefined) return false;
      if (target instanceof protobuf.Enum && BigInt.asIntN(64, v) !== BigInt.asIntN(32, v)) return false;
      if (f.type === 'bool' && v > 1n) return false;
      if (f.type === 'uint32' && v > 0xffffffffn) return false;
    } else if (wire === 2) {
      const sub = r.bytes();
      if (target instanceof protobuf.Type) {
        if (!walk(target, sub)) return false;
      } else if (fatalUtf8.decode(sub).length > requestTextBounds[f.name]!) return false;
    } else r.skipType(wire);
  }
  for (const [name, n] of counts) {
    const f = type.fields[name]!;
    if (f.repeated ? n > requestListBounds[name]! : n > 1) return false;
  }
  return true;
}
