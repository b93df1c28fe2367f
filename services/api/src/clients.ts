/** The api's clients of the services: one ContractClient per service contract, all sharing one ReadYourWrites. */
import type { AuditContract, BgpContract, ChainingContract, IpamContract, NatContract, SecgroupContract, StatusContract } from '@strata/contracts';
import type { ContractClient } from '@strata/runtime';

export type IpamClient = ContractClient<IpamContract>;
export type SecgroupClient = ContractClient<SecgroupContract>;
export type NatClient = ContractClient<NatContract>;
export type BgpClient = ContractClient<BgpContract>;
export type ChainingClient = ContractClient<ChainingContract>;
export type StatusClient = ContractClient<StatusContract>;
export type AuditClient = ContractClient<AuditContract>;
