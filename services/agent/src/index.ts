export { desiredState, hostDataplane, MANAGERS } from './dataplane/managers.js';
export type { HostDataplaneOptions } from './dataplane/managers.js';
export { Dataplane, hostKernel } from './dataplane/dataplane.js';
export type { DataplaneOptions, KernelPort, MemberApplyResult, PassResult, ReconcileResult } from './dataplane/dataplane.js';
export type { DesiredContext, DesiredPart, FastApplier, FastPath, FastPathResult, HostIo, Manager, ManagerRuntime, Readings, RuleCounter } from './dataplane/manager.js';
export type { DesiredOptions, DesiredState, DhcpSpec, DhcpSubnet, PortDevice } from './core/desired.js';
export { diff } from './core/diff.js';
export { applyNftCmd, diffNft, emptyNftState, NFT_TABLE } from './core/nft.js';
export type { NftBaseChain, NftChain, NftCmd, NftFamily, NftMap, NftRule, NftSet, NftState, NftTable } from './core/nft.js';
export { allocate, desiredSecurityGroups, eui64LinkLocal, FROM_PORT_MASK, ruleFor, spoofRules, TO_PORT_MASK } from './core/secgroups.js';
export type { RuleCounterLabel, SecurityGroupState } from './core/secgroups.js';
export { applyPlanToState, InexactPlanError } from './core/model.js';
export * from './core/names.js';
export { emptySnapshot } from './core/snapshot.js';
export type { HostViewSnapshot } from './core/snapshot.js';
export * from './core/types.js';
export { applyPlan, ApplyError, batchInvocations } from './kernel/apply.js';
export { DnsmasqManager, dnsmasqPaths, renderConfig, renderHosts } from './kernel/dnsmasq.js';
export { ExecError, inNetns, nodeExec, runOk } from './kernel/exec.js';
export type { Exec, ExecResult } from './kernel/exec.js';
export { readActual } from './kernel/read.js';
export { parseNftTable, readNft, readRuleCounters, renderNftScript } from './kernel/nft.js';
export type { NftCounterValue } from './kernel/nft.js';
export { startLinkMonitor } from './kernel/monitor.js';
export { Agent } from './agent.js';
export type { AgentOptions, ApplyReport } from './agent.js';
export type { AgentLogger } from './logger.js';
export type { CurrentView, ViewDelta, ViewJournal, ViewSource } from './view/current.js';
export { HostViewStore, InvalidEntryError } from './view/store.js';
export { HostViewWatcher } from './view/kv-watch.js';
export { agentConfig, agentService } from './service.js';
export {
  compareLines,
  DEFAULT_RENDER_OPTIONS,
  desiredForView,
  dhcpLines,
  kernelLines,
  nftLines,
  nftScript,
  nsLabel,
  renderHostLines,
  viewFromKeys,
  wireLines,
} from './render/host-lines.js';
export type { HostDesired, HostRenderOptions } from './render/host-lines.js';
