/**
 * Every key family, by kind. The record's type makes the compiler ask for a
 * family for every kind the contracts' host-view codec declares, but the
 * position key (`<h>.position.view`), which is not derived: hostview's
 * publishing layer writes it after the host's other keys (app/projection.ts).
 */
import type { DerivedHostviewKind } from '@strata/contracts';
import { chainFamily } from './chain.js';
import { domainFamily } from './domain.js';
import { epFamily } from './ep.js';
import type { KeyFamily } from './family.js';
import { hostFamily } from './host.js';
import { l2gwFamily } from './l2gw.js';
import { memberFamily } from './member.js';
import { netFamily } from './net.js';
import { portFamily } from './port.js';
import { sgFamily } from './sg.js';

export const FAMILIES: { readonly [K in DerivedHostviewKind]: KeyFamily<K> } = {
  host: hostFamily,
  port: portFamily,
  net: netFamily,
  ep: epFamily,
  domain: domainFamily,
  sg: sgFamily,
  member: memberFamily,
  chain: chainFamily,
  l2gw: l2gwFamily,
};

/** The families as a list (for the generic loops). */
export const FAMILY_LIST: readonly KeyFamily[] = Object.values(FAMILIES) as KeyFamily[];

export type { KeyFamily, NeedsStep } from './family.js';
