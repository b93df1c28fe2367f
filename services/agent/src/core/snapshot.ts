/** The host view as the agent holds it: every object of `<hostId>.>` in the KV bucket, by id. */
import type { GroupMember, HostChain, HostInfo, HostNetwork, HostSecurityGroup, L2Gateway, LocalPort, RemoteEndpoint, RoutingDomain } from '@strata/contracts';

export interface HostViewSnapshot {
  host?: HostInfo;
  networks: Record<string, HostNetwork>;
  ports: Record<string, LocalPort>;
  endpoints: Record<string, RemoteEndpoint>;
  domains: Record<string, RoutingDomain>;
  /** Security groups of local ports (`<h>.sg.<groupId>`), by group id. */
  groups: Record<string, HostSecurityGroup>;
  /** Members of groups that local groups' rules name as remote group (`<h>.member.<groupId>.<portId>`), by `<groupId>.<portId>`. */
  members: Record<string, GroupMember>;
  /** Service chains on routing domains realised here (`<h>.chain.<chainId>`), by chain id. */
  chains: Record<string, HostChain>;
  /** Software L2 gateway bindings on this gateway host (`<h>.l2gw.<bindingId>`), by binding id. */
  l2gateways: Record<string, L2Gateway>;
}

export const emptySnapshot = (): HostViewSnapshot => ({ networks: {}, ports: {}, endpoints: {}, domains: {}, groups: {}, members: {}, chains: {}, l2gateways: {} });
