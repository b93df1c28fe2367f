/**
 * Bearer-token authentication. Only sha256 hashes of static tokens are
 * configured (a leaked config file does not leak credentials); each
 * presented token is hashed and compared against every configured hash in
 * constant time. A token that is none of them is, when Keystone is
 * configured, validated as a Keystone token (@strata/identity).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Metadata } from '@grpc/grpc-js';
import { z } from 'zod';
import { TenantId } from '@strata/contracts';
import { PermissionDeniedError, UnauthenticatedError, ValidationError } from '@strata/errors';
import type { Identity, Role, TokenValidator } from '@strata/identity';

/** Who is calling, as established by their token. */
export interface Principal {
  /** The token's name (`keystone:<user name>` for a Keystone token): becomes the `actor` of every event the call causes. */
  name: string;
  tenant: string;
  admin: boolean;
  /** admin (every tenant), member, or reader (read RPCs only: read-only.ts). A static token is admin or member. */
  role: Role;
}

/** A static token as configured. */
export interface ApiToken {
  name: string;
  tenant: string;
  admin: boolean;
  /** Lowercase hex sha256 of the token text. */
  sha256: string;
}

const tokenSchema = z.object({
  name: z.string().min(1),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, { message: 'must be the 64 hex digits of the token’s sha256' })
    .transform((h) => h.toLowerCase()),
  tenant: TenantId,
  admin: z.boolean().default(false),
});
const tokensSchema = z.array(tokenSchema);

/** Parse the token list JSON; every problem is reported with its position so an operator can fix the file. */
export function parseTokens(json: string, source = 'tokens'): ApiToken[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ValidationError(`${source}: not valid JSON: ${(err as Error).message}`);
  }
  const parsed = tokensSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `[${i.path.map(String).join('.')}] ${i.message}`);
    throw new ValidationError(`${source}: ${problems.join('; ')}`);
  }
  const seen = new Set<string>();
  for (const t of parsed.data) {
    if (seen.has(t.sha256)) throw new ValidationError(`${source}: token ${t.name} has the same hash as another token`);
    seen.add(t.sha256);
  }
  return parsed.data;
}

/** Tokens from STRATA_API_TOKENS_FILE, else STRATA_API_TOKENS (inline JSON, meant for tests). */
export function loadTokens(env: { STRATA_API_TOKENS_FILE?: string | undefined; STRATA_API_TOKENS?: string | undefined }): ApiToken[] {
  if (env.STRATA_API_TOKENS_FILE !== undefined) {
    return parseTokens(readFileSync(env.STRATA_API_TOKENS_FILE, 'utf8'), env.STRATA_API_TOKENS_FILE);
  }
  if (env.STRATA_API_TOKENS !== undefined) return parseTokens(env.STRATA_API_TOKENS, 'STRATA_API_TOKENS');
  throw new ValidationError('no API tokens configured: set STRATA_API_TOKENS_FILE (or STRATA_API_TOKENS)');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The principal of a validated Keystone token: its project is the tenant, its user the actor. */
export function keystonePrincipal(identity: Identity): Principal {
  if (!TenantId.safeParse(identity.projectId).success) {
    throw new PermissionDeniedError(`Keystone project ${identity.projectName} has the id ${JSON.stringify(identity.projectId)}, which is not a valid Strata tenant id`);
  }
  return { name: `keystone:${identity.userName}`, tenant: identity.projectId, admin: identity.role === 'admin', role: identity.role };
}

export class Authenticator {
  private readonly tokens: Array<{ hash: Buffer; principal: Principal }>;

  /** `keystone`: validates the tokens that are not static ones; absent, only static tokens are accepted. */
  constructor(
    tokens: readonly ApiToken[],
    private readonly keystone?: TokenValidator,
  ) {
    this.tokens = tokens.map((t) => ({
      hash: Buffer.from(t.sha256, 'hex'),
      principal: { name: t.name, tenant: t.tenant, admin: t.admin, role: t.admin ? 'admin' : 'member' },
    }));
  }

  /** The caller of a gRPC call, from its `authorization: Bearer <token>` metadata. */
  async authenticate(metadata: Metadata): Promise<Principal> {
    const values = metadata.get('authorization');
    if (values.length === 0) {
      throw new UnauthenticatedError('missing credentials: send metadata "authorization: Bearer <token>"');
    }
    const header = values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    if (token === undefined) {
      throw new UnauthenticatedError('malformed credentials: expected one "authorization: Bearer <token>" value');
    }
    const principal = this.lookup(token);
    if (principal !== undefined) return principal;
    if (this.keystone === undefined) throw new UnauthenticatedError('unknown bearer token');
    return keystonePrincipal(await this.keystone.validate(token));
  }

  /** Compares against every token, match or not, so timing does not reveal how many hashes were tried. */
  private lookup(token: string): Principal | undefined {
    const hash = createHash('sha256').update(token, 'utf8').digest();
    let found: Principal | undefined;
    for (const t of this.tokens) {
      if (timingSafeEqual(hash, t.hash) && found === undefined) found = t.principal;
    }
    return found;
  }
}
