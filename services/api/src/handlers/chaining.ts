import type { ChainView, FlowClassifierView, FlowEndpoint as FlowEndpointView, FunctionGroupView, PortRange as PortRangeView, ServiceFunctionView } from '@strata/contracts';
import {
  etherTypeFromProto,
  etherTypeToProto,
  functionModeFromProto,
  functionModeToProto,
  groupFallbackFromProto,
  groupFallbackToProto,
  groupSelectionFromProto,
  groupSelectionToProto,
  healthCheckProtocolFromProto,
  healthCheckProtocolToProto,
  ruleProtocolFromProto,
  ruleProtocolToProto,
  type Chain,
  type ChainingServiceHandlers,
  type CreateServiceFunctionRequest__Output,
  type UpdateServiceFunctionRequest__Output,
  type FlowClassifier,
  type FlowEndpoint,
  type FlowEndpoint__Output,
  type FunctionGroup,
  type PortRange__Output,
  type ServiceFunction,
} from '@strata/proto';
import { ValidationError } from '@strata/errors';
import { paging, unary, type RpcDeps } from '../rpc.js';

/** An enum's zero value (or '') means the client did not choose: the command's schema default applies. */
const chosen = <T extends string>(value: T | ''): T | undefined => (value === '' ? undefined : value);

export function toServiceFunction(v: ServiceFunctionView): ServiceFunction {
  const h = v.healthCheck;
  return {
    id: v.id,
    tenant: v.tenant,
    name: v.name,
    ingressPortId: v.ingressPortId,
    egressPortId: v.egressPortId,
    mode: functionModeToProto(v.mode),
    virtualIp: v.virtualIp ?? undefined,
    healthCheck: h && { protocol: healthCheckProtocolToProto(h.protocol), port: h.port ?? undefined, intervalMs: h.intervalMs, timeoutMs: h.timeoutMs, rise: h.rise, fall: h.fall },
    healthy: v.healthy,
    createdAt: v.createdAt,
    description: v.description,
    revision: v.revision,
  };
}

export const toFunctionGroup = (v: FunctionGroupView): FunctionGroup => ({
  id: v.id,
  tenant: v.tenant,
  name: v.name,
  functionIds: v.functionIds,
  selection: groupSelectionToProto(v.selection),
  fallback: groupFallbackToProto(v.fallback),
  activeFunctionId: v.activeFunctionId ?? undefined,
  createdAt: v.createdAt,
  description: v.description,
  revision: v.revision,
});

const toEndpoint = (e: FlowEndpointView): FlowEndpoint => ({ groupId: e.groupId ?? undefined, cidr: e.cidr ?? undefined });

export const toFlowClassifier = (v: FlowClassifierView): FlowClassifier => ({
  id: v.id,
  tenant: v.tenant,
  name: v.name,
  ethertype: etherTypeToProto(v.ethertype),
  protocol: ruleProtocolToProto(v.protocol),
  source: toEndpoint(v.source),
  destination: toEndpoint(v.destination),
  sourcePorts: v.sourcePorts,
  destinationPorts: v.destinationPorts,
  createdAt: v.createdAt,
  description: v.description,
  revision: v.revision,
});

export const toChain = (v: ChainView): Chain => ({ ...v });

function healthCheckOf(h: CreateServiceFunctionRequest__Output['healthCheck']) {
  if (h === null) return undefined;
  return { protocol: chosen(healthCheckProtocolFromProto(h.protocol)), port: h.port, intervalMs: h.intervalMs, timeoutMs: h.timeoutMs, rise: h.rise, fall: h.fall };
}

/** An update's health check: replaced (health_check), removed (remove_health_check), or unchanged (neither). */
function updatedHealthCheckOf(req: UpdateServiceFunctionRequest__Output) {
  if (req.removeHealthCheck && req.healthCheck !== null) {
    throw new ValidationError('give health_check or remove_health_check, not both', { field: 'removeHealthCheck' });
  }
  return req.removeHealthCheck ? null : healthCheckOf(req.healthCheck);
}

/** A repeated field of an update: empty means unchanged (the lists it replaces are never empty). */
const replacing = (ids: string[]): string[] | undefined => (ids.length === 0 ? undefined : ids);

const endpointOf = (e: FlowEndpoint__Output | null) => (e === null ? undefined : { groupId: e.groupId, cidr: e.cidr });
const rangeOf = (r: PortRange__Output | null): PortRangeView | undefined => (r === null ? undefined : { min: r.min, max: r.max });

/** Forwarded to the chaining service, which enforces tenancy (another tenant's port, group, router, ... is NOT_FOUND). */
export function chainingHandlers(deps: RpcDeps): ChainingServiceHandlers {
  const { chaining } = deps;
  return {
    CreateServiceFunction: unary(deps, 'CreateServiceFunction', async (req, { meta }) =>
      toServiceFunction(
        await chaining.command(
          'function.create',
          {
            tenant: req.tenant,
            name: req.name,
            description: req.description,
            ingressPortId: req.ingressPortId,
            egressPortId: req.egressPortId,
            mode: chosen(functionModeFromProto(req.mode)),
            virtualIp: req.virtualIp,
            healthCheck: healthCheckOf(req.healthCheck),
          },
          meta,
        ),
      ),
    ),
    GetServiceFunction: unary(deps, 'GetServiceFunction', async (req, { meta }) => toServiceFunction(await chaining.query('function.get', { id: req.id }, meta))),
    ListServiceFunctions: unary(deps, 'ListServiceFunctions', async (req, { meta }) => {
      const page = await chaining.query('function.list', paging(req), meta);
      return { items: page.items.map(toServiceFunction), next: page.next };
    }),
    UpdateServiceFunction: unary(deps, 'UpdateServiceFunction', async (req, { meta }) =>
      toServiceFunction(
        await chaining.command(
          'function.update',
          { id: req.id, expectedRevision: req.expectedRevision, name: req.name, description: req.description, healthCheck: updatedHealthCheckOf(req) },
          meta,
        ),
      ),
    ),
    DeleteServiceFunction: unary(deps, 'DeleteServiceFunction', (req, { meta }) => chaining.command('function.delete', { id: req.id }, meta)),
    CreateFunctionGroup: unary(deps, 'CreateFunctionGroup', async (req, { meta }) =>
      toFunctionGroup(
        await chaining.command(
          'group.create',
          {
            tenant: req.tenant,
            name: req.name,
            description: req.description,
            functionIds: req.functionIds,
            selection: chosen(groupSelectionFromProto(req.selection)),
            fallback: chosen(groupFallbackFromProto(req.fallback)),
          },
          meta,
        ),
      ),
    ),
    GetFunctionGroup: unary(deps, 'GetFunctionGroup', async (req, { meta }) => toFunctionGroup(await chaining.query('group.get', { id: req.id }, meta))),
    ListFunctionGroups: unary(deps, 'ListFunctionGroups', async (req, { meta }) => {
      const page = await chaining.query('group.list', paging(req), meta);
      return { items: page.items.map(toFunctionGroup), next: page.next };
    }),
    UpdateFunctionGroup: unary(deps, 'UpdateFunctionGroup', async (req, { meta }) =>
      toFunctionGroup(
        await chaining.command(
          'group.update',
          { id: req.id, expectedRevision: req.expectedRevision, name: req.name, description: req.description, functionIds: replacing(req.functionIds) },
          meta,
        ),
      ),
    ),
    DeleteFunctionGroup: unary(deps, 'DeleteFunctionGroup', (req, { meta }) => chaining.command('group.delete', { id: req.id }, meta)),
    CreateFlowClassifier: unary(deps, 'CreateFlowClassifier', async (req, { meta }) =>
      toFlowClassifier(
        await chaining.command(
          'classifier.create',
          {
            tenant: req.tenant,
            name: req.name,
            description: req.description,
            ethertype: chosen(etherTypeFromProto(req.ethertype)),
            protocol: chosen(ruleProtocolFromProto(req.protocol)),
            source: endpointOf(req.source),
            destination: endpointOf(req.destination),
            sourcePorts: rangeOf(req.sourcePorts),
            destinationPorts: rangeOf(req.destinationPorts),
          },
          meta,
        ),
      ),
    ),
    GetFlowClassifier: unary(deps, 'GetFlowClassifier', async (req, { meta }) => toFlowClassifier(await chaining.query('classifier.get', { id: req.id }, meta))),
    ListFlowClassifiers: unary(deps, 'ListFlowClassifiers', async (req, { meta }) => {
      const page = await chaining.query('classifier.list', paging(req), meta);
      return { items: page.items.map(toFlowClassifier), next: page.next };
    }),
    UpdateFlowClassifier: unary(deps, 'UpdateFlowClassifier', async (req, { meta }) =>
      toFlowClassifier(await chaining.command('classifier.update', { id: req.id, expectedRevision: req.expectedRevision, name: req.name, description: req.description }, meta)),
    ),
    DeleteFlowClassifier: unary(deps, 'DeleteFlowClassifier', (req, { meta }) => chaining.command('classifier.delete', { id: req.id }, meta)),
    CreateChain: unary(deps, 'CreateChain', async (req, { meta }) =>
      toChain(
        await chaining.command(
          'chain.create',
          { tenant: req.tenant, name: req.name, description: req.description, routerId: chosen(req.routerId), groupIds: req.groupIds, classifierIds: req.classifierIds, symmetric: req.symmetric },
          meta,
        ),
      ),
    ),
    GetChain: unary(deps, 'GetChain', async (req, { meta }) => toChain(await chaining.query('chain.get', { id: req.id }, meta))),
    ListChains: unary(deps, 'ListChains', async (req, { meta }) => {
      const page = await chaining.query('chain.list', paging(req), meta);
      return { items: page.items.map(toChain), next: page.next };
    }),
    UpdateChain: unary(deps, 'UpdateChain', async (req, { meta }) =>
      toChain(
        await chaining.command(
          'chain.update',
          {
            id: req.id,
            expectedRevision: req.expectedRevision,
            name: req.name,
            description: req.description,
            groupIds: replacing(req.groupIds),
            classifierIds: replacing(req.classifierIds),
          },
          meta,
        ),
      ),
    ),
    DeleteChain: unary(deps, 'DeleteChain', (req, { meta }) => chaining.command('chain.delete', { id: req.id }, meta)),
  };
}
