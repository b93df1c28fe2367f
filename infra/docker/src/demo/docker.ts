/**
 * Just enough of the Docker Engine API (over its unix socket) for the demo
 * job to run `strata-vm` in the hypervisor containers, as a CMP would call
 * its compute service: find a compose service's container, exec a command,
 * collect output and exit code. No docker CLI in the image: the API is HTTP.
 */
import { request } from 'node:http';
import { hostname } from 'node:os';

const API = '/v1.41'; // Docker 20.10's API version; newer engines still serve it

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class DockerApi {
  constructor(readonly socketPath = process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock') {}

  private call(method: string, path: string, body?: unknown): Promise<{ status: number; data: Buffer }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        { socketPath: this.socketPath, method, path: `${API}${path}`, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, data: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', (e) => reject(new Error(`docker API at ${this.socketPath}: ${e.message} (is the socket mounted?)`)));
      req.end(payload);
    });
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.call(method, path, body);
    if (r.status >= 300) throw new Error(`docker API ${method} ${path}: HTTP ${r.status}: ${r.data.toString().trim()}`);
    return JSON.parse(r.data.toString()) as T;
  }

  /** The compose project this process runs in (from its own container's labels). */
  async ownProject(): Promise<string> {
    const me = await this.json<{ Config: { Labels: Record<string, string> } }>('GET', `/containers/${hostname()}/json`);
    const project = me.Config.Labels['com.docker.compose.project'];
    if (!project) throw new Error('this container has no com.docker.compose.project label: run the demo as a compose service');
    return project;
  }

  /** The running container of a compose service. */
  async container(project: string, service: string): Promise<string> {
    const filters = JSON.stringify({ label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`], status: ['running'] });
    const list = await this.json<{ Id: string }[]>('GET', `/containers/json?filters=${encodeURIComponent(filters)}`);
    if (list.length === 0) throw new Error(`no running container for service ${service} of compose project ${project}`);
    return list[0]!.Id;
  }

  /** Run argv in a compose service's container; its standard output, or an error saying how it failed. */
  async run(project: string, service: string, argv: string[]): Promise<string> {
    const r = await this.exec(await this.container(project, service), argv);
    if (r.code !== 0) throw new Error(`${service}: ${argv.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Run argv in a container and wait for it. */
  async exec(container: string, argv: string[]): Promise<ExecResult> {
    const { Id } = await this.json<{ Id: string }>('POST', `/containers/${container}/exec`, { AttachStdout: true, AttachStderr: true, Cmd: argv });
    const r = await this.call('POST', `/exec/${Id}/start`, { Detach: false, Tty: false });
    if (r.status >= 300) throw new Error(`docker exec ${argv.join(' ')}: HTTP ${r.status}: ${r.data.toString().trim()}`);
    const { stdout, stderr } = demultiplex(r.data);
    const info = await this.json<{ ExitCode: number | null }>('GET', `/exec/${Id}/json`);
    return { code: info.ExitCode ?? -1, stdout, stderr };
  }
}

/** Without a TTY the engine frames output: 1 byte stream (1 out, 2 err), 3 zero bytes, 4 bytes big-endian length. */
function demultiplex(data: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for (let i = 0; i + 8 <= data.length; ) {
    const size = data.readUInt32BE(i + 4);
    (data[i] === 2 ? err : out).push(data.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
