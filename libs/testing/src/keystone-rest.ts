/**
 * The few calls of Keystone's v3 REST API that tests need to set up an
 * OpenStack world: projects, users, role assignments, tokens, the catalog.
 * Every failure throws with Keystone's status and body, so a test that sets
 * up something wrong says what Keystone objected to.
 */

/** A token Keystone issued, with what a test asserts on. */
export interface IssuedToken {
  token: string;
  userId: string;
  projectId: string | undefined;
  /** ms since epoch */
  expiresAt: number;
  auditId: string;
  roles: string[];
}

export interface Named {
  id: string;
  name: string;
}

export interface PasswordCredentials {
  user: string;
  password: string;
  /** Project name to scope the token to (domain `default`); omitted: an unscoped token. */
  project?: string;
}

export class KeystoneRequestError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`Keystone ${method} ${path} answered ${status}: ${body.slice(0, 500)}`);
    this.name = 'KeystoneRequestError';
  }
}

/** Password authentication (domain `default`), optionally project-scoped: POST /v3/auth/tokens. */
export async function issueToken(baseUrl: string, creds: PasswordCredentials): Promise<IssuedToken> {
  const auth: Record<string, unknown> = {
    identity: { methods: ['password'], password: { user: { name: creds.user, domain: { id: 'default' }, password: creds.password } } },
  };
  if (creds.project !== undefined) auth['scope'] = { project: { name: creds.project, domain: { id: 'default' } } };
  const res = await fetch(`${baseUrl}/v3/auth/tokens?nocatalog`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new KeystoneRequestError('POST', '/v3/auth/tokens', res.status, text);
  const token = res.headers.get('x-subject-token');
  if (!token) throw new Error('Keystone issued a token without an X-Subject-Token header');
  const body = JSON.parse(text) as {
    token: { user: { id: string }; project?: { id: string }; expires_at: string; audit_ids: string[]; roles?: { name: string }[] };
  };
  return {
    token,
    userId: body.token.user.id,
    projectId: body.token.project?.id,
    expiresAt: Date.parse(body.token.expires_at),
    auditId: body.token.audit_ids[0] ?? '',
    roles: (body.token.roles ?? []).map((r) => r.name),
  };
}

/** Keystone's admin API under one admin token source. */
export class KeystoneAdmin {
  constructor(
    private readonly baseUrl: string,
    private readonly adminToken: () => Promise<string>,
  ) {}

  /** One call: JSON in, JSON out; `expect` is the status Keystone answers on success. */
  async call<T>(method: string, path: string, body: unknown, expect: number): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { 'x-auth-token': await this.adminToken(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status !== expect) throw new KeystoneRequestError(method, path, res.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async createProject(name: string): Promise<Named> {
    const r = await this.call<{ project: Named }>('POST', '/v3/projects', { project: { name, domain_id: 'default', enabled: true } }, 201);
    return { id: r.project.id, name: r.project.name };
  }

  async createUser(name: string, password: string): Promise<Named> {
    const r = await this.call<{ user: Named }>('POST', '/v3/users', { user: { name, password, domain_id: 'default', enabled: true } }, 201);
    return { id: r.user.id, name: r.user.name };
  }

  async roleId(name: string): Promise<string> {
    const r = await this.call<{ roles: Named[] }>('GET', `/v3/roles?name=${encodeURIComponent(name)}`, undefined, 200);
    const role = r.roles[0];
    if (!role) throw new Error(`Keystone has no role named ${JSON.stringify(name)}`);
    return role.id;
  }

  async createRole(name: string): Promise<Named> {
    const r = await this.call<{ role: Named }>('POST', '/v3/roles', { role: { name } }, 201);
    return { id: r.role.id, name: r.role.name };
  }

  /** Grant `role` (by name) to a user on a project: PUT /v3/projects/{p}/users/{u}/roles/{r}. */
  async assignRole(userId: string, projectId: string, role: string): Promise<void> {
    await this.call('PUT', `/v3/projects/${projectId}/users/${userId}/roles/${await this.roleId(role)}`, undefined, 204);
  }

  async unassignRole(userId: string, projectId: string, role: string): Promise<void> {
    await this.call('DELETE', `/v3/projects/${projectId}/users/${userId}/roles/${await this.roleId(role)}`, undefined, 204);
  }

  /** Revoke a token: DELETE /v3/auth/tokens (Keystone records a revocation event naming its audit id). */
  async revokeToken(token: string): Promise<void> {
    const res = await fetch(`${this.baseUrl}/v3/auth/tokens`, {
      method: 'DELETE',
      headers: { 'x-auth-token': await this.adminToken(), 'x-subject-token': token },
    });
    if (res.status !== 204) throw new KeystoneRequestError('DELETE', '/v3/auth/tokens', res.status, await res.text());
  }

  /** GET /v3/auth/tokens for a token: its body, or the HTTP status when Keystone refuses it (404 for unknown, expired, revoked). */
  async validateToken(token: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.baseUrl}/v3/auth/tokens?nocatalog`, {
      headers: { 'x-auth-token': await this.adminToken(), 'x-subject-token': token },
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  /** A catalog entry: the service (type, name) and its public endpoint in RegionOne. */
  async registerService(type: string, name: string, url: string): Promise<{ serviceId: string; endpointId: string }> {
    const s = await this.call<{ service: { id: string } }>('POST', '/v3/services', { service: { type, name, enabled: true } }, 201);
    const e = await this.call<{ endpoint: { id: string } }>(
      'POST',
      '/v3/endpoints',
      { endpoint: { service_id: s.service.id, interface: 'public', url, region_id: 'RegionOne', enabled: true } },
      201,
    );
    return { serviceId: s.service.id, endpointId: e.endpoint.id };
  }
}
