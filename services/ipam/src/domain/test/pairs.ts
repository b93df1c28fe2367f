/** Reading a port back in the pair tests: the port view the query answers with. */
import type { PortView } from '@strata/contracts';
import { getPort } from '../queries.js';
import { admin, type World } from './given.js';

export const queries = {
  port: (w: World, id: string): PortView => getPort(w.state, admin, { id }),
};
