import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTO_DIR, STRATA_PROTO_FILE, loadStrataProto, poolPurposeFromProto, poolPurposeToProto, toSafeInteger } from './index.js';

describe('loadStrataProto', () => {
  it('finds the .proto files next to the package, whatever the working directory', () => {
    expect(existsSync(join(PROTO_DIR, STRATA_PROTO_FILE))).toBe(true);
  });

  it('loads every service of strata.v1', () => {
    const v1 = loadStrataProto().strata.v1;
    for (const s of [v1.NetworkService, v1.SubnetService, v1.PortService, v1.HypervisorService, v1.PoolService, v1.FloatingIpService, v1.ApplicationPrefixService, v1.RouterService, v1.EventService]) {
      expect(typeof s.service).toBe('object');
    }
    expect(Object.keys(v1.EventService.service)).toEqual(['ListEvents', 'Watch']);
  });

  it('decodes unset optional fields as absent and 64-bit integers as exact strings', () => {
    const v1 = loadStrataProto().strata.v1;
    const m = v1.SubnetService.service.CreateSubnet;
    const req = m.requestDeserialize(m.requestSerialize({ networkId: 'n', cidr: '10.0.0.0/24' }));
    expect(req).toMatchObject({ networkId: 'n', name: '', noGateway: false, allocationPools: [] });
    expect(req).not.toHaveProperty('gatewayIp');
    expect(req).not.toHaveProperty('enableDhcp');
    const w = v1.EventService.service.Watch;
    expect(w.responseDeserialize(w.responseSerialize({ event: { seq: '9007199254740993' } })).event?.seq).toBe('9007199254740993');
  });
});

describe('conversions', () => {
  it('toSafeInteger refuses what a double cannot hold', () => {
    expect(toSafeInteger('42')).toBe(42);
    expect(() => toSafeInteger('9007199254740993', 'seq')).toThrow(/seq 9007199254740993 is not a non-negative safe integer/);
    expect(() => toSafeInteger(-1)).toThrow(RangeError);
  });

  it('maps pool purposes both ways', () => {
    expect(poolPurposeToProto('floating-ip')).toBe('POOL_PURPOSE_FLOATING_IP');
    expect(poolPurposeToProto('application-prefix')).toBe('POOL_PURPOSE_APPLICATION_PREFIX');
    expect(poolPurposeToProto('bogus')).toBe('POOL_PURPOSE_UNSPECIFIED');
    expect(poolPurposeFromProto('POOL_PURPOSE_HOST_IP')).toBe('host-ip');
    expect(poolPurposeFromProto('POOL_PURPOSE_UNSPECIFIED')).toBe('');
  });
});
