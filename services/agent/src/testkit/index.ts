/** Test support: a namespace lab for the agent, and host views of a test cloud derived by hostview itself. Not used by the agent itself. */
export { NetLab, sh, shOk } from './netlab.js';
export type { LabHost, LabVm } from './netlab.js';
export { hostView, sgRule, subnet } from './cloud.js';
export type { Cloud, CloudGroup, CloudNetwork, CloudPort } from './cloud.js';
export { PYTHON, startServer, stopAllServers, tcpExchange, tcpExchangeEventually, udpSend } from './traffic.js';
export type { Server, TcpOptions } from './traffic.js';
export { captureDiffers, captureKernel, netlinkLines, normalisedActual, normaliseRuleset, rulesetOfLines } from './kernel-lines.js';
export type { KernelCapture } from './kernel-lines.js';
