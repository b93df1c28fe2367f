/**
 * A TokenValidator over a fixed table of tokens, for tests of the REST core
 * that do not need Keystone itself (the engine's unit tests); the stack's
 * integration tests validate against a real Keystone.
 */
import { randomBytes } from 'node:crypto';
import { UnauthenticatedError } from '@strata/errors';
import type { Identity, Role, TokenValidator } from '@strata/identity';

export class TokenTable implements TokenValidator {
  private readonly identities = new Map<string, Identity>();

  /** A new token for a user of a project with a role; valid until revoked. */
  issue(userName: string, projectId: string, role: Role): string {
    const token = `t${randomBytes(12).toString('hex')}`;
    this.identities.set(token, {
      userId: `u-${userName}`,
      userName,
      projectId,
      projectName: `project-${projectId}`,
      role,
      keystoneRoles: [role],
      expiresAt: Date.now() + 3_600_000,
      auditId: token.slice(0, 8),
    });
    return token;
  }

  revoke(token: string): void {
    this.identities.delete(token);
  }

  async validate(token: string): Promise<Identity> {
    const identity = this.identities.get(token);
    if (!identity) throw new UnauthenticatedError('The request you have made requires authentication.');
    return identity;
  }
}
