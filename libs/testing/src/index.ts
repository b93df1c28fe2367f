export { freePort } from './free-port.js';
export { startNatsServer, type NatsServerHandle, type NatsServerOptions } from './nats-server.js';
export { waitFor } from './wait-for.js';
export { SERVICE_USERS, startStrataNats, type StrataNats, type StrataNatsOptions } from './strata-nats.js';
