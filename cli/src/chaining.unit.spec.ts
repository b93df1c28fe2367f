import { describe, expect, it } from 'vitest';
import type { FlowClassifier__Output } from '@strata/proto';
import { matchLine } from './commands/chaining.js';

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
