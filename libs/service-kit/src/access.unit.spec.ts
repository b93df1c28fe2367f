import { describe, expect, it } from 'vitest';
import { NotFoundError, PermissionDeniedError } from '@strata/errors';
import { canSee, owningTenant, requireAdmin, visible } from './access.js';
import type { Caller } from './decision.js';

const tenant: Caller = { actor: 'alice', tenant: 't1', admin: false, requestId: 'r1', at: '2024-01-01T00:00:00.000Z' };
const admin: Caller = { ...tenant, actor: 'root', tenant: '_system', admin: true };

describe('tenant access', () => {
  it('owningTenant: the caller’s own tenant, another one only for admins', () => {
    expect(owningTenant(tenant, undefined)).toBe('t1');
    expect(owningTenant(tenant, 't1')).toBe('t1');
    expect(() => owningTenant(tenant, 't2')).toThrow(PermissionDeniedError);
    expect(owningTenant(admin, 't2')).toBe('t2');
    expect(owningTenant(admin, undefined)).toBe('_system');
  });

  it('canSee: own tenant, or anything for admins', () => {
    expect(canSee(tenant, 't1')).toBe(true);
    expect(canSee(tenant, 't2')).toBe(false);
    expect(canSee(admin, 't2')).toBe(true);
  });

  it('visible: another tenant’s resource is not found, exactly like a missing one', () => {
    const entry = { tenant: 't2', id: 'n1' };
    expect(visible(admin, 'network', 'n1', entry)).toBe(entry);
    const other = (() => {
      try {
        visible(tenant, 'network', 'n1', entry);
      } catch (e) {
        return e;
      }
    })();
    const missing = (() => {
      try {
        visible(tenant, 'network', 'n1', undefined);
      } catch (e) {
        return e;
      }
    })();
    expect(other).toBeInstanceOf(NotFoundError);
    expect(JSON.stringify(other)).toBe(JSON.stringify(missing));
  });

  it('requireAdmin refuses tenant tokens', () => {
    expect(() => requireAdmin(tenant, 'reading hypervisors')).toThrow(PermissionDeniedError);
    expect(() => requireAdmin(admin, 'reading hypervisors')).not.toThrow();
  });
});
