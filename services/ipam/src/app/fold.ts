import { IPAM_CONTEXT } from '@strata/contracts';
import { withRequestIndex } from '@strata/service-kit';
import { evolve } from '../domain/evolve.js';

/** The projection's fold: IPAM's state and its request index (replays that must equal the projection use it too). */
export const foldIpam = withRequestIndex(IPAM_CONTEXT, evolve);
