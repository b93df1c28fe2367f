/**
 * A strict check of a request's protobuf bytes against its message type,
 * run before the ordinary (lenient) protobufjs decoding. protobufjs reads a
 * field by the type it expects whatever wire type it arrived with, replaces
 * invalid UTF-8 with U+FFFD, skips unknown fields and groups, and keeps an
 * enum number it does not know; each of those turned a malformed request
 * into a different, valid-looking one (issue 11, defects 9 and 10). Here
 * every one of them is refused, together with the size bounds of every
 * text and list field, so a request either means exactly what its bytes
 * say or is not served at all.
 *
 * Refused: truncated data; a field number 0 or one the message does not
 * define (unknown fields: a newer client's field this server would silently
 * ignore could be a restriction it then fails to apply); a wire type other
 * than the field's (packed encoding is accepted for repeated scalars);
 * group wire types (3, 4); a singular field given twice; a varint over 10
 * bytes or out of its field's range (uint32, int32, bool 0/1); an enum
 * number the enum does not define (0, the UNSPECIFIED value, is defined:
 * whether a request may leave an enum unspecified is the command's own
 * rule); invalid UTF-8 in a string; a text or list over its bound;
 * messages nested deeper than MAX_DEPTH.
 */
import protobuf from 'protobufjs';

/** A request refused by the strict decoder: `field` is the dotted path of the offending field ('' for the message). */
export class MalformedRequestError extends Error {
  override readonly name = 'MalformedRequestError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(field === '' ? message : `${field}: ${message}`);
  }
}

/** Size bounds by field name: `text` for string/bytes fields (characters; bytes for bytes), `list` for repeated fields (entries). */
export interface FieldBounds {
  text: Readonly<Record<string, number>>;
  list: Readonly<Record<string, number>>;
}

/** Requests nest at most a message or two; deeper nesting is an attack on the stack, not a request. */
const MAX_DEPTH = 16;

const WIRE = { varint: 0, i64: 1, len: 2, groupStart: 3, groupEnd: 4, i32: 5 } as const;

const scalarWireType: Readonly<Record<string, number>> = {
  double: WIRE.i64,
  float: WIRE.i32,
  int32: WIRE.varint,
  int64: WIRE.varint,
  uint32: WIRE.varint,
  uint64: WIRE.varint,
  sint32: WIRE.varint,
  sint64: WIRE.varint,
  fixed32: WIRE.i32,
  fixed64: WIRE.i64,
  sfixed32: WIRE.i32,
  sfixed64: WIRE.i64,
  bool: WIRE.varint,
  string: WIRE.len,
  bytes: WIRE.len,
};

const UINT32_MAX = 0xffff_ffffn;
const INT32_MIN = -0x8000_0000n;
const INT32_MAX = 0x7fff_ffffn;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A checker for one message type. Building it fails (throws) when a text or
 * list field of the type, or of a message it contains, has no bound: every
 * field a client can send must be bounded.
 */
export function strictChecker(type: protobuf.Type, bounds: FieldBounds): (bytes: Uint8Array) => void {
  assertBounded(type, bounds, new Set());
  return (bytes) => checkMessage(bytes, 0, bytes.length, type, bounds, '', 0);
}

function assertBounded(type: protobuf.Type, bounds: FieldBounds, seen: Set<protobuf.Type>): void {
  if (seen.has(type)) return;
  seen.add(type);
  for (const f of type.fieldsArray) {
    f.resolve();
    if ((f.type === 'string' || f.type === 'bytes') && !Object.hasOwn(bounds.text, f.name)) {
      throw new Error(`request field ${type.fullName}.${f.name} has no length bound`);
    }
    if (f.repeated && !Object.hasOwn(bounds.list, f.name)) throw new Error(`request field ${type.fullName}.${f.name} has no list bound`);
    if (f.map) throw new Error(`request field ${type.fullName}.${f.name}: map fields are not supported by the strict decoder`);
    if (f.resolvedType instanceof protobuf.Type) assertBounded(f.resolvedType, bounds, seen);
  }
}

class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
    readonly path: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a varint; errors name `path` (the field being read, by default the message). */
  varint(what: string, path = this.path): bigint {
    let value = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new MalformedRequestError(path, `truncated ${what}`);
      const b = this.bytes[this.pos++]!;
      if (i === 9 && b > 1) throw new MalformedRequestError(path, `${what} longer than 64 bits`);
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return value;
    }
    throw new MalformedRequestError(path, `${what} longer than 10 bytes`);
  }

  skip(n: number, what: string, path = this.path): number {
    if (n > this.end - this.pos) throw new MalformedRequestError(path, `truncated ${what}`);
    const start = this.pos;
    this.pos += n;
    return start;
  }
}

function checkMessage(bytes: Uint8Array, start: number, end: number, type: protobuf.Type, bounds: FieldBounds, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new MalformedRequestError(path, `messages nested deeper than ${MAX_DEPTH}`);
  const c = new Cursor(bytes, start, end, path);
  const counts = new Map<number, number>();
  while (!c.done) {
    const tag = c.varint('field tag');
    if (tag > UINT32_MAX) throw new MalformedRequestError(path, 'field tag out of range');
    const number = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === WIRE.groupStart || wire === WIRE.groupEnd) {
      throw new MalformedRequestError(path, `field ${number} uses the group wire type, which proto3 requests never use`);
    }
    if (number === 0) throw new MalformedRequestError(path, 'field number 0 is not valid');
    const field = type.fieldsById[number];
    if (field === undefined) throw new MalformedRequestError(path, `unknown field number ${number} in ${type.name}`);
    const fieldPath = path === '' ? field.name : `${path}.${field.name}`;
    const seen = counts.get(number) ?? 0;
    if (!field.repeated && seen > 0) throw new MalformedRequestError(fieldPath, 'given more than once');
    const added = checkField(c, wire, field, bounds, field.repeated ? `${fieldPath}.${seen}` : fieldPath, depth);
    const total = seen + added;
    counts.set(number, total);
    if (field.repeated && total > bounds.list[field.name]!) {
      throw new MalformedRequestError(fieldPath, `at most ${bounds.list[field.name]} entries`);
    }
  }
}

/** Checks one occurrence of `field` at the cursor; returns how many entries it holds (several when packed). */
function checkField(c: Cursor, wire: number, field: protobuf.Field, bounds: FieldBounds, path: string, depth: number): number {
  const target = field.resolvedType;
  const expected = target instanceof protobuf.Type ? WIRE.len : target instanceof protobuf.Enum ? WIRE.varint : scalarWireType[field.type];
  if (expected === undefined) throw new MalformedRequestError(path, `field type ${field.type} is not supported`);
  if (wire === expected) {
    checkValue(c, wire, field, bounds, path, depth);
    return 1;
  }
  if (wire === WIRE.len && field.repeated && expected !== WIRE.len) {
    // Packed repeated scalars: one length-delimited run of values of the field's own wire type.
    const len = Number(c.varint('length', path));
    const run = new Cursor(c.bytes, c.skip(len, 'packed field', path), c.pos, path);
    let n = 0;
    for (; !run.done; n++) checkValue(run, expected, field, bounds, `${path}+${n}`, depth);
    return n;
  }
  throw new MalformedRequestError(path, `wrong wire type ${wire} (expected ${expected} for ${field.type})`);
}

function checkValue(c: Cursor, wire: number, field: protobuf.Field, bounds: FieldBounds, path: string, depth: number): void {
  switch (wire) {
    case WIRE.varint:
      checkVarint(c.varint('value', path), field, path);
      return;
    case WIRE.i64:
      c.skip(8, 'fixed64 value', path);
      return;
    case WIRE.i32:
      c.skip(4, 'fixed32 value', path);
      return;
    default: {
      const len = Number(c.varint('length', path));
      const start = c.skip(len, 'value', path);
      const target = field.resolvedType;
      if (target instanceof protobuf.Type) {
        checkMessage(c.bytes, start, start + len, target, bounds, path, depth + 1);
        return;
      }
      const max = bounds.text[field.name]!;
      if (field.type === 'bytes') {
        if (len > max) throw new MalformedRequestError(path, `must be at most ${max} bytes (got ${len})`);
        return;
      }
      // A UTF-8 character is at least one byte: a longer byte run may still be within the bound in characters, so decode first.
      let text: string;
      try {
        text = utf8.decode(c.bytes.subarray(start, start + len));
      } catch {
        throw new MalformedRequestError(path, 'is not valid UTF-8');
      }
      if (text.length > max) throw new MalformedRequestError(path, `must be at most ${max} characters (got ${text.length})`);
    }
  }
}

function checkVarint(v: bigint, field: protobuf.Field, path: string): void {
  const target = field.resolvedType;
  if (target instanceof protobuf.Enum) {
    const s = BigInt.asIntN(64, v);
    if (s < INT32_MIN || s > INT32_MAX || target.valuesById[Number(s)] === undefined) {
      throw new MalformedRequestError(path, `unknown ${target.name} value ${s}; one of ${Object.keys(target.values).join(', ')}`);
    }
    return;
  }
  switch (field.type) {
    case 'uint32':
    case 'fixed32':
      if (v > UINT32_MAX) throw new MalformedRequestError(path, `${v} is out of range for uint32`);
      return;
    case 'int32': {
      const s = BigInt.asIntN(64, v);
      if (s < INT32_MIN || s > INT32_MAX) throw new MalformedRequestError(path, `${s} is out of range for int32`);
      return;
    }
    case 'sint32':
      if (v > UINT32_MAX) throw new MalformedRequestError(path, 'out of range for sint32');
      return;
    case 'bool':
      if (v > 1n) throw new MalformedRequestError(path, `${v} is not a bool (0 or 1)`);
      return;
    default:
      return;
  }
}
