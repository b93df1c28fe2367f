/** What Strata owns on a hypervisor: used to prove "left clean". */
import { sh, type Hypervisor, type Lab } from '@strata/lab';

export interface OwnedObjects {
  links: string[];
  fdb: string[];
  neigh: string[];
  namespaces: string[];
}

const STRATA_LINK = /^(sbr|svx|sgw)\d+$/;

export async function strataObjects(lab: Lab, h: Hypervisor): Promise<OwnedObjects> {
  const links = (JSON.parse(await h.ns.ip(['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname).filter((n) => STRATA_LINK.test(n));
  const fdb = (JSON.parse(await sh(['bridge', '-n', h.ns.name, '-j', 'fdb', 'show'])) as { mac: string; ifname?: string; dev?: string; dst?: string; state?: string }[])
    .filter((f) => STRATA_LINK.test(f.ifname ?? f.dev ?? '') && f.state !== 'permanent')
    .map((f) => `${f.mac} ${f.ifname ?? f.dev} ${f.dst ?? ''}`.trim());
  const neigh = (JSON.parse(await h.ns.ip(['-j', 'neigh', 'show'])) as { dst: string; dev: string }[])
    .filter((n) => STRATA_LINK.test(n.dev))
    .map((n) => `${n.dst} ${n.dev}`);
  const namespaces = (await sh(['ip', 'netns', 'list'])).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${lab.prefix}${h.id}-`));
  return { links, fdb, neigh, namespaces };
}

export const NOTHING: OwnedObjects = { links: [], fdb: [], neigh: [], namespaces: [] };
