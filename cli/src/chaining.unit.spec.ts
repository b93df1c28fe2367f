import { describe, expect, it } from 'vitest';
import type { FlowClassifier__Output } from '@strata/proto';
import { functionUpdateRequest, matchLine } from './commands/chaining.js';

const classifier = (c: Partial<FlowClassifier__Output>): FlowClassifier__Output =>
  ({ id: 'c', tenant: 't', name: '', ethertype: 'ETHER_TYPE_IPV4', protocol: 'RULE_PROTOCOL_ANY', source: null, destination: null, sourcePorts: null, destinationPorts: null, createdAt: '', ...c }) as FlowClassifier__Output;

describe('sfc classifier tables', () => {
  it('print a classifier\'s match as one line a person reads', () => {
    expect(matchLine(classifier({}))).toBe('IPv4 any from any to any');
    expect(
      matchLine(
        classifier({
          ethertype: 'ETHER_TYPE_IPV6',
          protocol: 'RULE_PROTOCOL_TCP',
          source: { groupId: 'web', cidr: undefined } as never,
          destination: { cidr: '2001:db8::/64' } as never,
          sourcePorts: { min: 1024, max: 65535 },
          destinationPorts: { min: 9000, max: 9000 },
        }),
      ),
    ).toBe('IPv6 tcp from group web port 1024-65535 to 2001:db8::/64 port 9000');
  });
});

describe('sfc function update', () => {
  it('sends only what was given: a health check from the --health-* options, or its removal, never both', () => {
    expect(functionUpdateRequest('f', { name: 'fw' })).toEqual({ id: 'f', name: 'fw', description: undefined, expectedRevision: undefined, healthCheck: undefined, removeHealthCheck: false });
    expect(functionUpdateRequest('f', { healthCheck: 'tcp', healthPort: 22, expectedRevision: 3 })).toMatchObject({
      expectedRevision: 3,
      healthCheck: { protocol: 'HEALTH_CHECK_PROTOCOL_TCP', port: 22 },
      removeHealthCheck: false,
    });
    expect(functionUpdateRequest('f', { removeHealthCheck: true })).toMatchObject({ healthCheck: undefined, removeHealthCheck: true });
    expect(() => functionUpdateRequest('f', { healthRise: 2, removeHealthCheck: true })).toThrow('give --health-* options or --remove-health-check, not both');
  });
});
