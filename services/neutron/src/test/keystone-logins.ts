/**
 * Logins through a real Keystone for the Neutron stack: projects and users
 * are created in Keystone on first use, every login is a password
 * authentication scoped to the project (a fresh token each time), and the
 * Neutron service validates them with the production KeystoneValidator.
 * The Neutron endpoint is put into Keystone's catalog as the `network`
 * service, so the stock `openstack` CLI finds it with password auth alone.
 */
import type { Role } from '@strata/identity';
import { KeystoneValidator, keystoneValidatorConfigSchema, type KeystoneValidatorConfigInput } from '@strata/identity';
import type { IssuedToken, KeystoneHandle, Named } from '@strata/testing';

export interface KeystoneLogin {
  token: string;
  projectId: string;
  userName: string;
  /** The Keystone role granted (admin, member, reader, or any other role name). */
  role: string;
  /** The user's password, for clients that authenticate themselves (the openstack CLI). */
  password: string;
  issued: IssuedToken;
}

export class KeystoneLogins {
  private readonly projects = new Map<string, Promise<Named>>();
  private readonly users = new Map<string, Promise<Named>>();
  private readonly grants = new Map<string, Promise<void>>();
  readonly validator: KeystoneValidator;

  constructor(
    readonly keystone: KeystoneHandle,
    serviceUser: { user: string; password: string },
    overrides: Partial<KeystoneValidatorConfigInput> = {},
  ) {
    this.validator = new KeystoneValidator(
      keystoneValidatorConfigSchema.parse({ url: keystone.url, serviceUser: serviceUser.user, servicePassword: serviceUser.password, ...overrides }),
    ).start();
  }

  /** A validator whose service user is created in `keystone` now. */
  static async create(keystone: KeystoneHandle, overrides: Partial<KeystoneValidatorConfigInput> = {}): Promise<KeystoneLogins> {
    const service = await keystone.createServiceUser(`neutron-${Math.random().toString(36).slice(2, 8)}`);
    return new KeystoneLogins(keystone, { user: service.user.name, password: service.password }, overrides);
  }

  /** The password every user created here has (tests need no secrets). */
  static password(user: string): string {
    return `pw-${user}`;
  }

  project(name: string): Promise<Named> {
    let p = this.projects.get(name);
    if (!p) this.projects.set(name, (p = this.keystone.createProject(name)));
    return p;
  }

  user(name: string): Promise<Named> {
    let u = this.users.get(name);
    if (!u) this.users.set(name, (u = this.keystone.createUser(name, KeystoneLogins.password(name))));
    return u;
  }

  /** Grant `role` to `user` on `project` (once). */
  async grant(project: string, user: string, role: Role | string): Promise<void> {
    const key = `${project}\0${user}\0${role}`;
    let g = this.grants.get(key);
    if (!g) {
      g = (async () => this.keystone.assignRole((await this.user(user)).id, (await this.project(project)).id, role))();
      this.grants.set(key, g);
    }
    await g;
  }

  /** A fresh project-scoped token of `user`, who holds `role` on `project`. */
  async login(project: string, user: string, role: Role | string): Promise<KeystoneLogin> {
    await this.grant(project, user, role);
    const password = KeystoneLogins.password(user);
    const issued = await this.keystone.issueToken({ user, password, project });
    return { token: issued.token, projectId: (await this.project(project)).id, userName: user, role, password, issued };
  }

  async stop(): Promise<void> {
    await this.validator.stop();
  }
}
