import { describe, expect, it } from 'vitest';
import { parseAddressOwner } from './address-owner.js';

const aggregate = { context: 'ipam', type: 'network', id: 'n' };

describe('parseAddressOwner (ipam.AddressPairOwnerChanged as helper aap writes it)', () => {
  it('reads the new owner, canonical address', () => {
    const data = { networkId: 'n', ip: '2001:DB8::0:5', portId: 'p', mac: '02:53:54:00:00:01', previousPortId: null, observedBy: 'hv2' };
    expect(parseAddressOwner({ type: 'ipam.AddressPairOwnerChanged', aggregate, data })).toEqual({ portId: 'p', ip: '2001:db8::5', mac: '02:53:54:00:00:01', observedBy: 'hv2' });
  });

  it('ignores other events, other contexts and other shapes', () => {
    const data = { portId: 'p', ip: '10.0.0.5', mac: 'm', observedBy: 'hv1' };
    expect(parseAddressOwner({ type: 'ipam.PortBound', aggregate, data })).toBeUndefined();
    expect(parseAddressOwner({ type: 'ipam.AddressPairOwnerChanged', aggregate: { ...aggregate, context: 'nat' }, data })).toBeUndefined();
    expect(parseAddressOwner({ type: 'ipam.AddressPairOwnerChanged', aggregate, data: { ...data, ip: 'nope' } })).toBeUndefined();
    expect(parseAddressOwner({ type: 'ipam.AddressPairOwnerChanged', aggregate, data: { ip: '10.0.0.5' } })).toBeUndefined();
  });
});
