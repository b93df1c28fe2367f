export { freePort } from './free-port.js';
export { startNatsServer, type NatsServerHandle, type NatsServerOptions } from './nats-server.js';
export { waitFor } from './wait-for.js';
