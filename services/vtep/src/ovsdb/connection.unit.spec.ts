import { describe, expect, it } from 'vitest';
import { OvsdbTargetError, parseTarget } from './connection.js';

describe('parseTarget', () => {
  it('reads tcp (IPv4, bracketed IPv6) and unix targets', () => {
    expect(parseTarget('tcp:198.18.0.40:6640')).toEqual({ kind: 'tcp', host: '198.18.0.40', port: 6640 });
    expect(parseTarget('tcp:[2001:db8::1]:6640')).toEqual({ kind: 'tcp', host: '2001:db8::1', port: 6640 });
    expect(parseTarget('unix:/run/db.sock')).toEqual({ kind: 'unix', path: '/run/db.sock' });
  });

  it('refuses ssl (no certificates yet), bad ports and other text with a clear error', () => {
    for (const t of ['ssl:198.18.0.40:6640', 'tcp:198.18.0.40:0', 'tcp:198.18.0.40:70000', 'tcp:host:6640', 'unix:', '']) {
      expect(() => parseTarget(t), t).toThrow(OvsdbTargetError);
    }
    expect(() => parseTarget('ssl:198.18.0.40:6640')).toThrow('must be tcp:<ip>:<port> or unix:<path>');
  });
});
