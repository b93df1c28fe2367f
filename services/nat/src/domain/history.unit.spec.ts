/**
 * nat's `history` answer (issue 16): for random sequences of nat's commands
 * and of the IPAM events it follows (ports, floating IPs, routers; ids
 * allocated again after a release, as a retried request can; the reactor run
 * after each, as live; and decisions that land after IPAM removed their
 * resource, as a stale instance's can), at every log position the view of
 * every association and gateway rebuilt from its own nat aggregate alone
 * equals the view in the full fold, and is what nat's own queries answer
 * (without IPAM's fields).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NAT_CONTEXT } from '@strata/contracts';
import { StrataError } from '@strata/errors';
import { auditedResources, historyMismatches } from '@strata/service-kit/testing';
import type { Decision } from './decide/index.js';
import { applyStored } from './evolve.js';
import { auditView } from './history.js';
import { getFloatingIp, getRouterGateway } from './queries.js';
import { initialState } from './state.js';
import { admin, World } from './test/given.js';

const TENANTS = ['tenant-a', 'tenant-b'] as const;
const IPS = ['10.0.0.5', '10.0.0.6', '10.0.1.5', '2001:db8::5'] as const;

const op = fc.oneof(
  fc.record({ k: fc.constant('port' as const), t: fc.constantFrom(...TENANTS), ips: fc.subarray([...IPS]) }),
  fc.record({ k: fc.constant('bind' as const), i: fc.nat(), host: fc.constantFrom('hv1', 'hv2', null) }),
  fc.record({ k: fc.constant('readdress' as const), i: fc.nat(), ips: fc.subarray([...IPS]) }),
  fc.record({ k: fc.constant('unport' as const), i: fc.nat() }),
  fc.record({ k: fc.constant('fip' as const), t: fc.constantFrom(...TENANTS), again: fc.option(fc.nat()) }),
  fc.record({ k: fc.constant('release' as const), i: fc.nat() }),
  fc.record({ k: fc.constant('router' as const), t: fc.constantFrom(...TENANTS), again: fc.option(fc.nat()) }),
  fc.record({ k: fc.constant('unrouter' as const), i: fc.nat() }),
  fc.record({ k: fc.constant('associate' as const), i: fc.nat(), j: fc.nat(), ip: fc.option(fc.constantFrom(...IPS)) }),
  fc.record({ k: fc.constant('disassociate' as const), i: fc.nat() }),
  fc.record({ k: fc.constant('gateway' as const), i: fc.nat(), on: fc.boolean() }),
  fc.record({ k: fc.constant('stale' as const), i: fc.nat(), j: fc.nat(), what: fc.constantFrom('associate' as const, 'gateway' as const) }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** Run the operations as the service and IPAM would (refusals write nothing); the log they leave. */
function run(ops: Op[]): World {
  const w = new World();
  const pick = <T>(xs: T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);
  const attempt = (fn: () => Decision): Decision | undefined => {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof StrataError)) throw e;
      return undefined;
    }
  };
  const tryRun = (fn: () => Decision): void => {
    const d = attempt(fn);
    if (d?.kind === 'append') w.apply(d);
  };
  // Ids IPAM released, by tenant: a retried request of that tenant makes the same id again.
  const releasedFips: Record<string, string[]> = {};
  const releasedRouters: Record<string, string[]> = {};
  const again = (released: Record<string, string[]>, t: string, i: number | null): string | undefined => {
    const ids = released[t] ?? [];
    if (i === null || ids.length === 0) return undefined;
    return ids.splice(i % ids.length, 1)[0];
  };
  const release = (id: string) => {
    (releasedFips[w.state.floatingIps[id]!.tenant] ??= []).push(id);
    w.floatingIpReleased(id);
    w.reactReleased(id);
  };
  const deleteRouter = (id: string) => {
    (releasedRouters[w.state.routers[id]!.tenant] ??= []).push(id);
    w.routerDeleted(id);
    w.reactRouterDeleted(id);
  };
  for (const o of ops) {
    const ports = Object.keys(w.state.ports);
    const fips = Object.values(w.state.floatingIps).filter((f) => f.live).map((f) => f.id);
    const routers = Object.values(w.state.routers).filter((r) => r.live).map((r) => r.id);
    switch (o.k) {
      case 'port':
        w.port(o.t, o.ips, 'hv1');
        break;
      case 'bind': {
        const p = pick(ports, o.i);
        if (p) w.portBound(p, o.host);
        break;
      }
      case 'readdress': {
        const p = pick(ports, o.i);
        if (!p) break;
        w.portAddressesChanged(p, o.ips);
        w.reactPortUpdated(p);
        break;
      }
      case 'unport': {
        const p = pick(ports, o.i);
        if (!p) break;
        w.portDeleted(p);
        w.reactPortDeleted(p);
        break;
      }
      case 'fip': {
        const id = again(releasedFips, o.t, o.again);
        if (id === undefined) w.floatingIp(o.t);
        else w.floatingIp(o.t, id);
        break;
      }
      case 'release': {
        const f = pick(fips, o.i);
        if (f) release(f);
        break;
      }
      case 'router': {
        const id = again(releasedRouters, o.t, o.again);
        if (id === undefined) w.router(o.t);
        else w.router(o.t, id);
        break;
      }
      case 'unrouter': {
        const r = pick(routers, o.i);
        if (r) deleteRouter(r);
        break;
      }
      case 'associate': {
        const f = pick(fips, o.i);
        const p = pick(ports, o.j);
        if (f && p) tryRun(() => w.decide('floatingip.associate', { floatingIpId: f, portId: p, ...(o.ip ? { fixedIp: o.ip } : {}) }, admin));
        break;
      }
      case 'disassociate': {
        const f = pick(fips, o.i);
        if (f) tryRun(() => w.decide('floatingip.disassociate', { floatingIpId: f }, admin));
        break;
      }
      case 'gateway': {
        const r = pick(routers, o.i);
        if (r) tryRun(() => w.decide('router.setGateway', { routerId: r, enabled: o.on }, admin));
        break;
      }
      case 'stale': {
        // Decided against the state before IPAM removed the resource, appended after (its nat aggregate's version still matches).
        if (o.what === 'associate') {
          const f = pick(fips, o.i);
          const p = pick(ports, o.j);
          const d = f && p ? attempt(() => w.decide('floatingip.associate', { floatingIpId: f, portId: p }, admin)) : undefined;
          if (d?.kind !== 'append') break;
          release(f!);
          if (w.state.floatingIps[f!]?.version === d.expectedVersion || (w.state.floatingIps[f!] === undefined && d.expectedVersion === 0)) w.apply(d);
        } else {
          const r = pick(routers, o.i);
          const d = r ? attempt(() => w.decide('router.setGateway', { routerId: r, enabled: true }, admin)) : undefined;
          if (d?.kind !== 'append') break;
          deleteRouter(r!);
          if (w.state.routers[r!]?.version === d.expectedVersion || (w.state.routers[r!] === undefined && d.expectedVersion === 0)) w.apply(d);
        }
        break;
      }
    }
  }
  return w;
}

const source = { context: NAT_CONTEXT, initial: initialState, fold: applyStored, view: auditView };

describe("nat's history", () => {
  it('rebuilds every association and gateway at every position from its own aggregate alone, equal to the full fold', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 60 }), async (ops) => {
        const w = run(ops);
        expect(await historyMismatches((store) => ({ ...source, store }), w.events, auditedResources(source.context, w.events))).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it("shows each resource as nat's own queries answer it, without IPAM's fields (address, host)", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 60 }), (ops) => {
        const s = run(ops).state;
        for (const f of Object.values(s.floatingIps)) {
          if (!f.live || f.version === 0) continue;
          const { address: _address, hostId: _hostId, ...shown } = getFloatingIp(s, admin, { id: f.id });
          expect(auditView(s, 'floating-ip-association', f.id)?.view).toEqual(shown);
        }
        for (const r of Object.values(s.routers)) if (r.live && r.version > 0) expect(auditView(s, 'router-gateway', r.id)?.view).toEqual(getRouterGateway(s, admin, { id: r.id }));
      }),
      { numRuns: 60 },
    );
  });
});
