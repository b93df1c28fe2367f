/** The typed client of each service contract, by name: what the gRPC API and the Neutron API hold, one per service, sharing one ReadYourWrites. */
import type { AuditContract, BgpContract, ChainingContract, IpamContract, NatContract, SecgroupContract, StatusContract } from '@strata/contracts';
import type { ContractClient } from './contract-client.js';

export type IpamClient = ContractClient<IpamContract>;
export type SecgroupClient = ContractClient<SecgroupContract>;
export type NatClient = ContractClient<NatContract>;
export type BgpClient = ContractClient<BgpContract>;
export type ChainingClient = ContractClient<ChainingContract>;
export type StatusClient = ContractClient<StatusContract>;
export type AuditClient = ContractClient<AuditContract>;
