/** The Neutron service's clients of the services: one ContractClient per contract, sharing one ReadYourWrites (as the gRPC API's). */
import type { AuditContract, ChainingContract, IpamContract, NatContract, SecgroupContract, StatusContract } from '@strata/contracts';
import type { ContractClient } from '@strata/runtime';

export type IpamClient = ContractClient<IpamContract>;
export type SecgroupClient = ContractClient<SecgroupContract>;
export type NatClient = ContractClient<NatContract>;
export type ChainingClient = ContractClient<ChainingContract>;
export type StatusClient = ContractClient<StatusContract>;
export type AuditClient = ContractClient<AuditContract>;
