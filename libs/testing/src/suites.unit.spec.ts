import { describe, expect, it } from 'vitest';
import { kernel, root, underCi } from './suites.js';

describe('underCi', () => {
  it('is true for any CI value but empty, "false" and "0"', () => {
    expect(underCi({ CI: 'true' })).toBe(true);
    expect(underCi({ CI: '1' })).toBe(true);
    expect(underCi({ CI: 'TRUE' })).toBe(true);
    expect(underCi({})).toBe(false);
    expect(underCi({ CI: '' })).toBe(false);
    expect(underCi({ CI: 'false' })).toBe(false);
    expect(underCi({ CI: '0' })).toBe(false);
  });
});

describe('root and kernel', () => {
  it('names what is missing: root first, then the first command that fails', () => {
    const missing = kernel(['false']).missing;
    if (process.getuid?.() === 0) expect(missing).toMatch(/`(ip netns list|false)`/);
    else expect(missing).toMatch(/^root \(running as uid \d+\)$/);
  });

  it('root is met exactly when running as uid 0', () => {
    expect(root().missing === null).toBe(process.getuid?.() === 0);
  });
});
