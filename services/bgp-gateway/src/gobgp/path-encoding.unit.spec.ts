import { describe, expect, it } from 'vitest';
import { originatedPath } from './paths.js';
import { UnicastPathEncoder, type UnicastChange } from './path-encoding.js';
import { loadGobgpApi } from './proto.js';

// gobgpd's own .proto files (Debian's golang-github-osrg-gobgp-dev) are the judge: both encodings decoded by them.
const method = loadGobgpApi().service.AddPathStream;
const decode = (b: Buffer): unknown => method.requestDeserialize(b);

describe('UnicastPathEncoder', () => {
  const changes: UnicastChange[] = [
    { prefix: '198.19.0.1/32', nextHop: '198.18.0.11', withdraw: false },
    { prefix: '198.19.0.2/32', nextHop: '198.18.0.12', withdraw: true },
    { prefix: '198.51.100.0/25', nextHop: '198.18.0.11', withdraw: false },
    { prefix: '2001:db8::20/128', nextHop: '::ffff:198.18.0.12', withdraw: false },
    { prefix: '2001:db8:0:1::/64', nextHop: '2001:db8:ffff::c612:b', withdraw: true },
    { prefix: '0.0.0.0/0', nextHop: '198.18.0.11', withdraw: false },
  ];

  it("encodes what originatedPath builds, as gobgpd's .proto files read it", () => {
    const encoder = new UnicastPathEncoder();
    const generic = method.requestSerialize({ table_type: 'GLOBAL', paths: changes.map((c) => originatedPath(c.prefix, c.nextHop, c.withdraw)) });
    expect(decode(encoder.request(changes))).toEqual(decode(generic));
  });

  it('one path at a time, and again from its cache of attributes', () => {
    const encoder = new UnicastPathEncoder();
    for (const c of [...changes, ...changes]) {
      expect(decode(encoder.request([c]))).toEqual(decode(method.requestSerialize({ table_type: 'GLOBAL', paths: [originatedPath(c.prefix, c.nextHop, c.withdraw)] })));
    }
  });

  it('an empty request is an empty message', () => {
    expect(new UnicastPathEncoder().request([]).length).toBe(0);
  });
});
