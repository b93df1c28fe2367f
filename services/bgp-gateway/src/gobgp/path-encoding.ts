/**
 * AddPathStream requests carrying Strata's unicast paths, encoded straight
 * to protobuf bytes. proto-loader's generic serializer packs every
 * `google.protobuf.Any` (the NLRI and three attributes per path) through a
 * type lookup and a nested encode: 10,000 paths took 0.3 s warm and 1.3 s
 * in a fresh process on the lab machine (a gateway's first pass after a
 * start is such a process: issue 21). Here the three attributes are encoded
 * once per next hop and each path costs its NLRI and a few tags.
 *
 * The content is `originatedPath`'s (paths.ts), field for field:
 * paths.unit.spec.ts decodes both encodings with gobgpd's .proto files and
 * compares them. Field numbers from gobgp.proto / attribute.proto (3.x).
 */
import { anyType } from './proto.js';
import { STRATA_COMMUNITY } from './paths.js';

export interface UnicastChange {
  prefix: string;
  nextHop: string;
  withdraw: boolean;
}

const LEN = 2;
const VARINT = 0;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
const lengthDelimited = (field: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([...key(field, LEN), ...varint(body.length)]), body]);
const varintField = (field: number, n: number): Buffer => Buffer.from([...key(field, VARINT), ...varint(n)]);
const text = (field: number, s: string): Buffer => lengthDelimited(field, Buffer.from(s, 'utf8'));
/** google.protobuf.Any { string type_url = 1; bytes value = 2; } */
const any = (type: string, value: Buffer): Buffer => Buffer.concat([text(1, anyType(type)), lengthDelimited(2, value)]);

// Path fields (gobgp.proto): nlri = 1, pattrs = 2, is_withdraw = 5, family = 9. AddPathStreamRequest: table_type = 1 (GLOBAL = 0, the default), paths = 3.
const PATH_NLRI = 1;
const PATH_PATTRS = 2;
const PATH_IS_WITHDRAW = 5;
const PATH_FAMILY = 9;
const REQUEST_PATHS = 3;
/** Family { Afi afi = 1; Safi safi = 2 }: AFI_IP 1, AFI_IP6 2, SAFI_UNICAST 1. */
const FAMILY_V4 = lengthDelimited(PATH_FAMILY, Buffer.concat([varintField(1, 1), varintField(2, 1)]));
const FAMILY_V6 = lengthDelimited(PATH_FAMILY, Buffer.concat([varintField(1, 2), varintField(2, 1)]));
const WITHDRAW = varintField(PATH_IS_WITHDRAW, 1);

const NLRI_TYPE = Buffer.from(anyType('IPAddressPrefix'), 'utf8');

export class UnicastPathEncoder {
  /** next hop → the path's `pattrs` fields: OriginAttribute (IGP), NextHopAttribute, CommunitiesAttribute (Strata's). */
  private readonly attributes = new Map<string, Buffer>();

  /** One AddPathStreamRequest (table GLOBAL) with `changes` in order, written into one buffer. */
  request(changes: readonly UnicastChange[]): Buffer {
    let bound = 0;
    const parts = changes.map((c) => {
      const slash = c.prefix.lastIndexOf('/');
      const p = { address: Buffer.from(c.prefix.slice(0, slash), 'latin1'), length: Number(c.prefix.slice(slash + 1)), attributes: this.attributesFor(c.nextHop), c };
      // Tags and lengths (at most 5 bytes each for lengths, 1 per tag) plus the bytes themselves.
      bound += 40 + NLRI_TYPE.length + p.address.length + p.attributes.length + FAMILY_V6.length;
      return p;
    });
    const out = Buffer.allocUnsafe(bound);
    let at = 0;
    const byte = (b: number): void => void (out[at++] = b);
    const uvarint = (n: number): void => {
      let v = n >>> 0;
      while (v > 0x7f) {
        byte((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      byte(v);
    };
    const copy = (b: Buffer): void => void (at += b.copy(out, at));
    for (const p of parts) {
      // IPAddressPrefix { uint32 prefix_len = 1; string prefix = 2; } inside Any { type_url = 1; value = 2 } as Path.nlri.
      const prefixBody = 1 + varint(p.length).length + 1 + varint(p.address.length).length + p.address.length;
      const anyBody = 1 + varint(NLRI_TYPE.length).length + NLRI_TYPE.length + 1 + varint(prefixBody).length + prefixBody;
      const family = p.c.prefix.includes(':') ? FAMILY_V6 : FAMILY_V4;
      const pathBody = 1 + varint(anyBody).length + anyBody + p.attributes.length + (p.c.withdraw ? WITHDRAW.length : 0) + family.length;
      byte((REQUEST_PATHS << 3) | LEN);
      uvarint(pathBody);
      byte((PATH_NLRI << 3) | LEN);
      uvarint(anyBody);
      byte((1 << 3) | LEN);
      uvarint(NLRI_TYPE.length);
      copy(NLRI_TYPE);
      byte((2 << 3) | LEN);
      uvarint(prefixBody);
      byte((1 << 3) | VARINT);
      uvarint(p.length);
      byte((2 << 3) | LEN);
      uvarint(p.address.length);
      copy(p.address);
      copy(p.attributes);
      if (p.c.withdraw) copy(WITHDRAW);
      copy(family);
    }
    return out.subarray(0, at);
  }

  private attributesFor(nextHop: string): Buffer {
    let encoded = this.attributes.get(nextHop);
    if (!encoded) {
      encoded = Buffer.concat([
        lengthDelimited(PATH_PATTRS, any('OriginAttribute', varintField(1, 0))),
        lengthDelimited(PATH_PATTRS, any('NextHopAttribute', text(1, nextHop))),
        // repeated uint32, packed
        lengthDelimited(PATH_PATTRS, any('CommunitiesAttribute', lengthDelimited(1, Buffer.from(varint(STRATA_COMMUNITY))))),
      ]);
      this.attributes.set(nextHop, encoded);
    }
    return encoded;
  }
}
