/**
 * `<H>.chain.<c>` (HostChain): every service chain on a routing domain H
 * realises. Placeholder until the chaining input node lands: no host has
 * chain keys yet.
 */
import type { KeyFamily } from './family.js';
import { stringify } from './family.js';

export const chainFamily: KeyFamily<'chain'> = {
  kind: 'chain',
  putOrder: 7,
  value: () => undefined,
  encode: stringify,
  entries() {},
  hosts() {},
  touched() {},
};
