/**
 * A private public-key infrastructure for tests and labs, made with
 * openssl (Debian's) in a directory: a CA, server and client certificates
 * it signed, a foreign CA with a server and a client certificate of its own
 * (what a wrong or hostile party holds), and an expired certificate of the
 * right CA. EC P-256 keys: the whole set takes a few tens of milliseconds.
 *
 * Every leaf certificate is good for both serverAuth and clientAuth and
 * names `localhost`, 127.0.0.1, ::1 and the names given, so one certificate
 * serves any local process. The expired certificate is signed with
 * `openssl ca` and dates in the past (openssl 3.0's `x509 -req` cannot
 * backdate); makePki checks that openssl itself calls it expired.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (unencrypted). */
  key: string;
}

export interface CaFiles extends CertFiles {
  /** Issue a certificate of this CA, valid now (or, with `expired`, only in 2020). */
  issue(name: string, opts?: IssueOptions): CertFiles;
}

export interface IssueOptions {
  /** More subjectAltNames: DNS names, or IPv4/IPv6 addresses. */
  names?: readonly string[];
  expired?: boolean;
}

export interface Pki {
  dir: string;
  /** The CA everyone trusts. */
  ca: CaFiles;
  /** A server certificate of `ca` (names: localhost, 127.0.0.1, ::1 and the names given to makePki). */
  server: CertFiles;
  /** A client certificate of `ca`. */
  client: CertFiles;
  /** A certificate of `ca` whose validity ended in 2020. */
  expired: CertFiles;
  /** Another CA nobody here trusts, with a server and a client certificate of its own. */
  foreign: { ca: CaFiles; server: CertFiles; client: CertFiles };
}

const LOCAL_NAMES = ['localhost', '127.0.0.1', '::1'];

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

const isAddress = (name: string): boolean => /^[\d.]+$/.test(name) || name.includes(':');

function makeCa(dir: string, name: string): CaFiles {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  openssl(dir, [
    'req', '-x509', '-new', '-key', key, '-subj', `/CN=Strata test ${name}`, '-days', '30', '-out', cert,
    '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  // `openssl ca` (the only 3.0 way to choose a certificate's dates) keeps a database of what it issued.
  const db = join(dir, `${name}-db`);
  mkdirSync(db);
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'serial'), '1000\n');
  const caConf = join(db, 'ca.cnf');
  writeFileSync(
    caConf,
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${db}/index.txt\nnew_certs_dir = ${db}\nserial = ${db}/serial\n` +
      `default_md = sha256\npolicy = p\nunique_subject = no\ncopy_extensions = none\n[p]\ncommonName = supplied\n`,
  );
  const issue = (leaf: string, opts: IssueOptions = {}): CertFiles => {
    const files = { cert: join(dir, `${leaf}.crt`), key: join(dir, `${leaf}.key`) };
    const csr = join(dir, `${leaf}.csr`);
    const ext = join(dir, `${leaf}.ext`);
    const names = [...new Set([...LOCAL_NAMES, ...(opts.names ?? [])])];
    writeFileSync(
      ext,
      `basicConstraints = critical,CA:false\nkeyUsage = critical,digitalSignature,keyEncipherment\n` +
        `extendedKeyUsage = serverAuth,clientAuth\n` +
        `subjectAltName = ${names.map((n) => (isAddress(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}\n`,
    );
    openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', files.key]);
    openssl(dir, ['req', '-new', '-key', files.key, '-subj', `/CN=${leaf}`, '-out', csr]);
    const dates = opts.expired ? ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z'] : ['-days', '30'];
    openssl(dir, ['ca', '-config', caConf, '-batch', '-notext', '-cert', cert, '-keyfile', key, '-in', csr, '-out', files.cert, '-extfile', ext, ...dates]);
    return files;
  };
  return { cert, key, issue };
}

/** Make the set in `dir` (created if missing); `names` are extra subjectAltNames of the server certificate. */
export function makePki(dir: string, names: readonly string[] = []): Pki {
  mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, 'ca');
  const foreignCa = makeCa(dir, 'foreign-ca');
  const expired = ca.issue('expired', { names, expired: true });
  assertExpired(dir, ca.cert, expired.cert);
  return {
    dir,
    ca,
    server: ca.issue('server', { names }),
    client: ca.issue('client'),
    expired,
    foreign: { ca: foreignCa, server: foreignCa.issue('foreign-server', { names }), client: foreignCa.issue('foreign-client') },
  };
}

/** The expired certificate must fail for its dates alone (error 10), or the tests using it prove nothing. */
function assertExpired(dir: string, ca: string, cert: string): void {
  try {
    execFileSync('openssl', ['verify', '-CAfile', ca, cert], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '') + String((err as { stderr?: Buffer }).stderr ?? '');
    if (/certificate has expired/.test(out)) return;
    throw new Error(`the expired certificate fails verification for another reason: ${out}`);
  }
  throw new Error('the expired certificate verifies: openssl did not backdate it');
}
