/** The host view as the agent holds it: every object of `<hostId>.>` in the KV bucket, by id. */
import type { HostInfo, HostNetwork, LocalPort, RemoteEndpoint, RoutingDomain } from '@strata/contracts';

export interface HostViewSnapshot {
  host?: HostInfo;
  networks: Record<string, HostNetwork>;
  ports: Record<string, LocalPort>;
  endpoints: Record<string, RemoteEndpoint>;
  domains: Record<string, RoutingDomain>;
}

export const emptySnapshot = (): HostViewSnapshot => ({ networks: {}, ports: {}, endpoints: {}, domains: {} });
