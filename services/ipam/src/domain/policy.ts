/** Deployment-wide IPAM settings; passed into deciders so they stay pure. */
export interface IpamPolicy {
  /** Inclusive VNI range networks are numbered from. */
  vniMin: number;
  vniMax: number;
  /** MTU a network gets when none is asked for: underlay MTU minus VXLAN overhead. */
  defaultMtu: number;
  /** First three octets of generated MACs (locally administered, unicast). */
  macPrefix: string;
}

export const defaultPolicy: IpamPolicy = {
  vniMin: 4096,
  vniMax: 16_777_215,
  // 1500-byte underlay minus 50 bytes of outer Ethernet/IPv4/UDP/VXLAN headers.
  defaultMtu: 1450,
  macPrefix: '02:53:54',
};
