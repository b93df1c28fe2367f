export { ConfigError, baseConfigSchema, loadConfig, logLevels, positiveInt } from './config.js';
export type { BaseConfig, ConfigProblem, LogLevel } from './config.js';
export { createLogger, withCorrelation } from './logger.js';
export type { CorrelationFields, Logger } from './logger.js';
export { createMetrics } from './metrics.js';
export type { MetricsOptions, ServiceMetrics } from './metrics.js';
export { Readiness } from './readiness.js';
export type { CheckResult, CheckStatus, ReadinessCheck, ReadinessFlag, ReadinessReport } from './readiness.js';
export { startHttpServer } from './http.js';
export type { HttpServerHandle, HttpServerOptions } from './http.js';
export { extractTrace, formatTraceparent, injectTrace, parseTraceparent, traceIdOf, withSpan } from './tracing.js';
export type { TraceContext } from './tracing.js';
export { installContextManager } from './context-manager.js';
export { MAX_REASON_LENGTH, parseReply, requestMetaSchema, toValidationError } from './messaging.js';
export type { ReplyEnvelope, RequestEnvelope, RequestMeta } from './messaging.js';
export { handler, serve } from './serve.js';
export type { Handler, HandlerContext, HandlerResult, ServeHandle, ServeOptions } from './serve.js';
export { NatsRequester } from './requester.js';
export type { RequesterOptions, RequesterSetup, RequestResult } from './requester.js';
export { ContractClient, ReadYourWrites } from './contract-client.js';
export type { ContractClientOptions } from './contract-client.js';
export type { AuditClient, BgpClient, ChainingClient, IpamClient, NatClient, SecgroupClient, StatusClient } from './service-clients.js';
export { UNKNOWN_STATUS, portStatuses } from './port-status.js';
export type { PortStatusFields } from './port-status.js';
export { runService, startService } from './lifecycle.js';
export type { RunningService, ServiceContext, ServiceDefinition, StopFn } from './lifecycle.js';
export {
  CLOCK_SKEW_MS,
  COMMAND_SERVICES,
  CommandSigner,
  CommandVerifier,
  MAX_LIFETIME_MS,
  RequestRefused,
  SIGNATURE_LIFETIME_MS,
  authenticationHeaders,
  commandSignerFrom,
  commandVerifierFrom,
  commandVerifyEntry,
  ensureHarnessCommandKeys,
  generateCommandKeys,
  parseVerifyKeys,
  serviceKeyOfEntry,
  serviceOfSubject,
} from './command-auth.js';
export type { CommandKeyPair, RefusalReason, ServiceKey } from './command-auth.js';
