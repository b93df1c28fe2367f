/**
 * The stock `openstack` CLI (Debian's python3-openstackclient), run where a
 * user of the lab runs it: in the keystone container, on the compose
 * network, with a cloud of its /etc/openstack/clouds.yaml (written by
 * lab-keystone): `admin`, or `demo` (the demo project's member). It finds
 * Strata's Neutron API in Keystone's catalog; nothing here names it. The
 * demo reaches the container through the Docker Engine API, as it reaches
 * the compute stand-in.
 */
import type { DockerApi } from './docker.js';

export type Cloud = 'admin' | 'demo';

export class OpenStackError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`openstack ${args.join(' ')}: ${stderr.trim()}`);
  }

  /** The CLI's own "No <Resource> found for <name>" / "... could not be found" answer. */
  get notFound(): boolean {
    return /No \S+ found for|could not be found|not found/i.test(this.stderr) && !/More than one/i.test(this.stderr);
  }
}

export class OpenStack {
  constructor(
    private readonly docker: DockerApi,
    private readonly project: string,
    private readonly service = process.env['STRATA_LAB_OPENSTACK_SERVICE'] ?? 'keystone',
  ) {}

  /** `openstack --os-cloud CLOUD ARGS`, its standard output; throws OpenStackError when it fails. */
  async exec(cloud: Cloud, args: string[]): Promise<string> {
    const container = await this.docker.container(this.project, this.service);
    const r = await this.docker.exec(container, ['openstack', '--os-cloud', cloud, ...args]);
    if (r.code !== 0) throw new OpenStackError(args, r.stderr || r.stdout || `exit ${r.code}`);
    return r.stdout;
  }

  /** `openstack ARGS -f json`, parsed; `show` also prints the command, as the demo's readers see it. */
  async json<T>(cloud: Cloud, args: string[], opts: { show?: boolean } = {}): Promise<T> {
    const out = await this.exec(cloud, [...args, '-f', 'json']);
    if (opts.show) console.log(`$ openstack --os-cloud ${cloud} ${args.join(' ')} -f json`);
    return JSON.parse(out) as T;
  }

  /** `openstack ARGS` as a table, printed. */
  async show(cloud: Cloud, args: string[]): Promise<void> {
    console.log(`\n$ openstack --os-cloud ${cloud} ${args.join(' ')}`);
    process.stdout.write(await this.exec(cloud, args));
  }

  /**
   * The resource named `name` (`openstack <kind> show NAME`), created with
   * `create` when the CLI answers that there is none: a re-run of the demo
   * finds what the first run made and writes nothing. Any other failure
   * (e.g. "More than one … exists") is thrown.
   */
  async ensure<T>(cloud: Cloud, kind: string[], name: string, create: string[]): Promise<T> {
    try {
      return await this.json<T>(cloud, [...kind, 'show', name]);
    } catch (e) {
      if (!(e instanceof OpenStackError) || !e.notFound) throw e;
    }
    return this.json<T>(cloud, [...kind, 'create', ...create, name], { show: true });
  }
}
