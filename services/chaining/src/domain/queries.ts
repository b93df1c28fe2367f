/** Read side: state → the views queries answer with, scoped to what the caller may see. */
import type { ChainView, ChainingQuery, FlowClassifierView, FunctionGroupView, Page, ServiceFunctionView } from '@strata/contracts';
import { canSee, page } from '@strata/service-kit';
import { findChain, findClassifier, findFunction, findGroup } from './decide/lookup.js';
import type { Caller } from './decide/types.js';
import type { ChainEntry, ChainingState, ClassifierEntry, FunctionEntry, GroupEntry } from './state.js';

export const functionView = ({ version: _, ...v }: FunctionEntry): ServiceFunctionView => v;
export const groupView = ({ version: _, ...v }: GroupEntry): FunctionGroupView => v;
export const classifierView = ({ version: _, ...v }: ClassifierEntry): FlowClassifierView => v;
export const chainView = ({ version: _, ...v }: ChainEntry): ChainView => v;

function listOf<T extends { id: string; tenant: string }, V>(entries: Record<string, T>, c: Caller, q: ChainingQuery<'function.list'>, view: (e: T) => V): Page<V> {
  const p = page(
    Object.values(entries).filter((e) => canSee(c, e.tenant)),
    q,
  );
  return { items: p.items.map(view), next: p.next };
}

export const getFunction = (s: ChainingState, c: Caller, q: ChainingQuery<'function.get'>) => functionView(findFunction(s, c, q.id));
export const listFunctions = (s: ChainingState, c: Caller, q: ChainingQuery<'function.list'>) => listOf(s.functions, c, q, functionView);
export const getGroup = (s: ChainingState, c: Caller, q: ChainingQuery<'group.get'>) => groupView(findGroup(s, c, q.id));
export const listGroups = (s: ChainingState, c: Caller, q: ChainingQuery<'group.list'>) => listOf(s.groups, c, q, groupView);
export const getClassifier = (s: ChainingState, c: Caller, q: ChainingQuery<'classifier.get'>) => classifierView(findClassifier(s, c, q.id));
export const listClassifiers = (s: ChainingState, c: Caller, q: ChainingQuery<'classifier.list'>) => listOf(s.classifiers, c, q, classifierView);
export const getChain = (s: ChainingState, c: Caller, q: ChainingQuery<'chain.get'>) => chainView(findChain(s, c, q.id));
export const listChains = (s: ChainingState, c: Caller, q: ChainingQuery<'chain.list'>) => listOf(s.chains, c, q, chainView);
