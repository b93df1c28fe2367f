export { freePort, onFreePort } from './free-port.js';
export { nodeHealthy, startNatsCluster, type NatsCluster, type NatsClusterNode, type NatsClusterOptions } from './nats-cluster.js';
export { startNatsServer, type NatsServerHandle, type NatsServerOptions } from './nats-server.js';
export { waitFor } from './wait-for.js';
export {
  LAB_MARKER_ENV,
  namespaceInode,
  namespacesWithPrefix,
  netnsOfProcess,
  processesIn,
  teardownNamespaces,
  teardownNamespacesSync,
  type OwnedNamespaces,
} from './namespaces.js';
export { SERVICE_USERS, startStrataNats, type StrataNats, type StrataNatsOptions } from './strata-nats.js';
export { KAFKA_MOCK_SOURCE, kafkaMockBinary, startKafkaMock, type KafkaMock, type KafkaMockOptions } from './kafka-mock.js';
export { startPostgres, type PostgresHandle, type PostgresOptions } from './postgres.js';
export { startKeystone, type KeystoneHandle, type KeystoneOptions, type ProjectUser } from './keystone.js';
export { issueToken, KeystoneAdmin, KeystoneRequestError, type IssuedToken, type Named, type PasswordCredentials } from './keystone-rest.js';
