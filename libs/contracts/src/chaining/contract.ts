/**
 * The service-chaining service's contract over NATS: commands at
 * `strata.cmd.chaining.<op>`, queries at `strata.qry.chaining.<op>`, each
 * with its request schema (commands.ts) and reply schema (below, checked
 * against views.ts). Creations answer with the resulting view, deletions
 * with the deleted id.
 */
import { z } from 'zod';
import { defineContract, type CommandInput, type CommandName, type CommandRequest, type Exactly, type QueryName, type QueryRequest } from '../contract.js';
import { historyQuery } from '../audit/history.js';
import { Deleted, pageOf, StateDigest } from '../replies.js';
import {
  ChainingDigestRequest,
  ChainingRef,
  CreateChain,
  CreateFlowClassifier,
  CreateFunctionGroup,
  CreateServiceFunction,
  ListChainingResources,
  UpdateChain,
  UpdateFlowClassifier,
  UpdateFunctionGroup,
  UpdateServiceFunction,
} from './commands.js';
import { ClassifierEthertype, ClassifierProtocol, FlowEndpoint, FunctionMode, GroupFallback, GroupSelection, HealthCheck, PortRange } from './views.js';
import type * as v from './views.js';

const ServiceFunctionView = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  ingressPortId: z.string(),
  egressPortId: z.string(),
  mode: z.enum(FunctionMode),
  virtualIp: z.string().nullable(),
  healthCheck: HealthCheck.nullable(),
  healthy: z.boolean(),
  createdAt: z.string(),
  description: z.string(),
  revision: z.number(),
});
const FunctionGroupView = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  functionIds: z.array(z.string()),
  selection: z.enum(GroupSelection),
  fallback: z.enum(GroupFallback),
  activeFunctionId: z.string().nullable(),
  createdAt: z.string(),
  description: z.string(),
  revision: z.number(),
});
const FlowClassifierView = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  ethertype: z.enum(ClassifierEthertype),
  protocol: z.enum(ClassifierProtocol),
  source: FlowEndpoint,
  destination: FlowEndpoint,
  sourcePorts: PortRange.nullable(),
  destinationPorts: PortRange.nullable(),
  createdAt: z.string(),
  description: z.string(),
  revision: z.number(),
});
const ChainView = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  routerId: z.string(),
  groupIds: z.array(z.string()),
  classifierIds: z.array(z.string()),
  symmetric: z.boolean(),
  createdAt: z.string(),
  description: z.string(),
  revision: z.number(),
});

// The reply schemas parse to exactly the view types of views.ts: neither can change without the other.
true satisfies Exactly<z.output<typeof ServiceFunctionView>, v.ServiceFunctionView>;
true satisfies Exactly<z.output<typeof FunctionGroupView>, v.FunctionGroupView>;
true satisfies Exactly<z.output<typeof FlowClassifierView>, v.FlowClassifierView>;
true satisfies Exactly<z.output<typeof ChainView>, v.ChainView>;

export const chainingContract = defineContract('chaining', {
  commands: {
    'function.create': { request: CreateServiceFunction, reply: ServiceFunctionView },
    'function.update': { request: UpdateServiceFunction, reply: ServiceFunctionView },
    'function.delete': { request: ChainingRef, reply: Deleted },
    'group.create': { request: CreateFunctionGroup, reply: FunctionGroupView },
    'group.update': { request: UpdateFunctionGroup, reply: FunctionGroupView },
    'group.delete': { request: ChainingRef, reply: Deleted },
    'classifier.create': { request: CreateFlowClassifier, reply: FlowClassifierView },
    'classifier.update': { request: UpdateFlowClassifier, reply: FlowClassifierView },
    'classifier.delete': { request: ChainingRef, reply: Deleted },
    'chain.create': { request: CreateChain, reply: ChainView },
    'chain.update': { request: UpdateChain, reply: ChainView },
    'chain.delete': { request: ChainingRef, reply: Deleted },
  },
  queries: {
    'function.get': { request: ChainingRef, reply: ServiceFunctionView },
    'function.list': { request: ListChainingResources, reply: pageOf(ServiceFunctionView) },
    'group.get': { request: ChainingRef, reply: FunctionGroupView },
    'group.list': { request: ListChainingResources, reply: pageOf(FunctionGroupView) },
    'classifier.get': { request: ChainingRef, reply: FlowClassifierView },
    'classifier.list': { request: ListChainingResources, reply: pageOf(FlowClassifierView) },
    'chain.get': { request: ChainingRef, reply: ChainView },
    'chain.list': { request: ListChainingResources, reply: pageOf(ChainView) },
    'state.digest': { request: ChainingDigestRequest, reply: StateDigest },
    history: historyQuery,
  },
});

export type ChainingContract = typeof chainingContract;
export type ChainingCommandName = CommandName<ChainingContract>;
export type ChainingCommandInput<K extends ChainingCommandName> = CommandInput<ChainingContract, K>;
export type ChainingCommand<K extends ChainingCommandName> = CommandRequest<ChainingContract, K>;
export type ChainingQuery<K extends QueryName<ChainingContract>> = QueryRequest<ChainingContract, K>;
