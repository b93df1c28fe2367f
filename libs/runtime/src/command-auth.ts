/**
 * Authenticated command and query envelopes (docs/architecture.md, "NATS
 * security"). A service does not trust a request because of the subject it
 * arrived on: any NATS user that may create a JetStream consumer can have
 * messages delivered to any subject. So the sender (in production only the
 * api) authenticates every request with HMAC-SHA256, and every service
 * checks the MAC before it looks at the request.
 *
 * Keys. The api holds a master secret (STRATA_COMMAND_SIGNING_KEY). For a
 * request to `strata.<cmd|qry>.<service>.<op>` it uses that service's key,
 * HMAC-SHA256(master, "strata-command-key/v1/" + service). A service is
 * given only its own key (STRATA_COMMAND_VERIFY_KEYS entries
 * `service=base64key`), so it can check requests to itself but cannot make
 * one another service accepts: a compromised service still cannot command
 * the others. (A shared key would let any service forge for all; that is
 * why the keys are per service and derived, not one secret.)
 *
 * The MAC travels in NATS headers and covers, in this order:
 *   "strata-request-v1", the subject, the key id, issued-at and expiry
 *   (ms since the epoch), and every byte of the payload (the envelope
 *   JSON: meta with actor, tenant, admin, request id, correlation, at, …,
 *   and the body).
 * A verifier refuses a request whose MAC does not verify, whose key it does
 * not know, that has expired, or whose lifetime exceeds MAX_LIFETIME_MS (so
 * a leaked message is replayable for at most that long; a replay is a retry
 * with the same request id and changes nothing).
 *
 * HMAC rather than Ed25519 signatures: checking one costs ~3 µs instead of
 * ~116 µs per request (docs/performance.md), and per-service keys give the
 * same separation as a public key would here, since the api is the only
 * sender. `node infra/nats/command-keys.mjs` prints a master secret and
 * every service's entry.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { UnauthenticatedError } from '@strata/errors';
import { ConfigError } from './config.js';

/** How long an authenticated request stays valid: network and queueing delay, not a session. */
export const SIGNATURE_LIFETIME_MS = 60_000;
/** A verifier refuses anything made to live longer than this (plus the clock skew below). */
export const MAX_LIFETIME_MS = SIGNATURE_LIFETIME_MS;
/** Clock difference between sender and service that is tolerated. */
export const CLOCK_SKEW_MS = 5_000;

export const SIGNATURE_HEADER = 'Strata-Sig';
export const KEY_ID_HEADER = 'Strata-Key';
export const ISSUED_HEADER = 'Strata-Iat';
export const EXPIRES_HEADER = 'Strata-Exp';

const DOMAIN = 'strata-request-v1';
const KEY_DERIVATION_LABEL = 'strata-command-key/v1/';
/** Least master secret length; also the length of every derived service key. */
const KEY_BYTES = 32;

/** The services that answer commands and queries: each gets its own key. */
export const COMMAND_SERVICES = ['ipam', 'secgroup', 'nat', 'bgp', 'chaining', 'status', 'audit'] as const;

/** Keys as the environment carries them. */
export interface CommandKeyPair {
  /** STRATA_COMMAND_SIGNING_KEY of the sender: the master secret, base64. */
  signingKey: string;
  /**
   * A STRATA_COMMAND_VERIFY_KEYS value with every service's entry, for
   * harnesses that give all services one variable. In production each
   * service gets only its own entry (commandVerifyEntry).
   */
  verifyKey: string;
}

export function generateCommandKeys(services: readonly string[] = COMMAND_SERVICES): CommandKeyPair {
  const signingKey = randomBytes(KEY_BYTES).toString('base64');
  return { signingKey, verifyKey: services.map((s) => commandVerifyEntry(signingKey, s)).join(',') };
}

/** The STRATA_COMMAND_VERIFY_KEYS entry (`service=base64key`) of `service` under master secret `signingKey`. */
export function commandVerifyEntry(signingKey: string, service: string): string {
  return `${service}=${deriveServiceKey(masterSecret(signingKey), service).toString('base64')}`;
}

function masterSecret(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < KEY_BYTES || bytes.toString('base64') !== text.trim()) {
    throw new Error(`command signing key must be base64 of at least ${KEY_BYTES} random bytes`);
  }
  return bytes;
}

function deriveServiceKey(master: Buffer, service: string): Buffer {
  return createHmac('sha256', master).update(KEY_DERIVATION_LABEL + service).digest();
}

/** First 16 hex digits of the SHA-256 of a service key: names the key on the wire (several during a rotation). */
function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** The service a request subject addresses: `strata.<cmd|qry>.<service>.<op>`. */
export function serviceOfSubject(subject: string): string | undefined {
  const parts = subject.split('.', 4);
  if (parts.length < 4 || parts[0] !== 'strata' || (parts[1] !== 'cmd' && parts[1] !== 'qry') || parts[2] === '') return undefined;
  return parts[2];
}

function mac(key: Buffer, subject: string, keyId: string, iat: number, exp: number, payload: Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${DOMAIN}\n${subject}\n${keyId}\n${iat}\n${exp}\n`, 'utf8').update(payload).digest();
}

/** One service key with its id: what a service holds, and what the signer uses per subject. */
export interface ServiceKey {
  key: Buffer;
  keyId: string;
}

function serviceKey(key: Buffer): ServiceKey {
  return { key, keyId: keyIdOf(key) };
}

/** The headers that authenticate `payload` sent to `subject` with `key`, issued at `iat`. */
export function authenticationHeaders(key: ServiceKey, subject: string, payload: Uint8Array, iat: number): MsgHdrs {
  const exp = iat + SIGNATURE_LIFETIME_MS;
  const h = natsHeaders();
  h.set(KEY_ID_HEADER, key.keyId);
  h.set(ISSUED_HEADER, String(iat));
  h.set(EXPIRES_HEADER, String(exp));
  h.set(SIGNATURE_HEADER, mac(key.key, subject, key.keyId, iat, exp, payload).toString('base64'));
  return h;
}

/** The key a STRATA_COMMAND_VERIFY_KEYS entry carries (what that service holds). */
export function serviceKeyOfEntry(entry: string): { service: string } & ServiceKey {
  const eq = entry.indexOf('=');
  const service = eq > 0 ? entry.slice(0, eq).trim() : '';
  const text = eq > 0 ? entry.slice(eq + 1).trim() : '';
  const key = Buffer.from(text, 'base64');
  if (service === '' || key.length !== KEY_BYTES || key.toString('base64') !== text) {
    throw new Error(`command verify key entry ${entry.slice(0, 12)}… is not service=<base64 of ${KEY_BYTES} bytes>`);
  }
  return { service, ...serviceKey(key) };
}

export class CommandSigner {
  private readonly master: Buffer;
  private readonly keys = new Map<string, ServiceKey>();

  constructor(signingKey: string, private readonly now: () => number = Date.now) {
    this.master = masterSecret(signingKey);
  }

  /** The id of the key requests to `service` are authenticated with. */
  keyIdFor(service: string): string {
    return this.keyOf(service).keyId;
  }

  /** The headers that authenticate `payload` sent to `subject` (`strata.<cmd|qry>.<service>.<op>`). */
  headers(subject: string, payload: Uint8Array): MsgHdrs {
    const service = serviceOfSubject(subject);
    if (service === undefined) throw new Error(`cannot authenticate a request to ${subject}: not strata.<cmd|qry>.<service>.<op>`);
    return authenticationHeaders(this.keyOf(service), subject, payload, this.now());
  }

  private keyOf(service: string): ServiceKey {
    let key = this.keys.get(service);
    if (key === undefined) {
      key = serviceKey(deriveServiceKey(this.master, service));
      this.keys.set(service, key);
    }
    return key;
  }
}

/** Why a request was refused; the label of the refusal metric. */
export type RefusalReason = 'unsigned' | 'unknown_key' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'too_long_lived';

export class RequestRefused extends UnauthenticatedError {
  constructor(readonly reason: RefusalReason, message: string) {
    super(message);
  }
}

export class CommandVerifier {
  private readonly keys = new Map<string, Buffer>();

  /**
   * `service`: the service this verifier guards; `verifyKeys`: STRATA_COMMAND_VERIFY_KEYS
   * entries (`service=base64key`). Only `service`'s own entries are used (several during a
   * rotation); others' entries, which a harness may put in the same variable, are ignored.
   */
  constructor(readonly service: string, verifyKeys: readonly string[], private readonly now: () => number = Date.now) {
    for (const entry of verifyKeys) {
      const parsed = serviceKeyOfEntry(entry);
      if (parsed.service === service) this.keys.set(parsed.keyId, parsed.key);
    }
    if (this.keys.size === 0) throw new Error(`no command verify key for service ${service}: it would refuse every request`);
  }

  /** Throws RequestRefused unless `payload` on `subject` carries a valid, current MAC of one of this service's keys. */
  verify(subject: string, hdrs: MsgHdrs | undefined, payload: Uint8Array): void {
    const signature = hdrs?.get(SIGNATURE_HEADER) ?? '';
    const keyId = hdrs?.get(KEY_ID_HEADER) ?? '';
    if (signature === '' || keyId === '') throw new RequestRefused('unsigned', 'request is not signed');
    const key = this.keys.get(keyId);
    if (key === undefined) throw new RequestRefused('unknown_key', `request is signed with unknown key ${keyId.slice(0, 16)}`);
    // This service's key authenticates only requests to this service, whatever subject they came on.
    if (serviceOfSubject(subject) !== this.service) throw new RequestRefused('bad_signature', `request to ${subject} is not for service ${this.service}`);
    const iat = Number(hdrs?.get(ISSUED_HEADER));
    const exp = Number(hdrs?.get(EXPIRES_HEADER));
    if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) throw new RequestRefused('bad_signature', 'request signature has no valid issue and expiry times');
    const expected = mac(key, subject, keyId, iat, exp, payload);
    const given = Buffer.from(signature, 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new RequestRefused('bad_signature', 'request signature does not verify');
    }
    // Times are checked after the MAC: only then are they the sender's.
    const now = this.now();
    if (exp - iat > MAX_LIFETIME_MS) throw new RequestRefused('too_long_lived', `request signature lives ${exp - iat} ms, more than ${MAX_LIFETIME_MS} ms`);
    if (iat > now + CLOCK_SKEW_MS) throw new RequestRefused('not_yet_valid', 'request signature is issued in the future');
    if (now > exp + CLOCK_SKEW_MS) throw new RequestRefused('expired', 'request signature has expired');
  }
}

/** The comma-separated STRATA_COMMAND_VERIFY_KEYS value as a list of entries. */
export function parseVerifyKeys(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * The verifier of `service` (the subject token it answers, e.g. `ipam`); a missing key
 * is a configuration error, never "accept all".
 */
export function commandVerifierFrom(env: { STRATA_COMMAND_VERIFY_KEYS?: string | undefined }, service: string): CommandVerifier {
  const keys = parseVerifyKeys(env.STRATA_COMMAND_VERIFY_KEYS ?? '');
  if (keys.length === 0) {
    throw new ConfigError([
      { variable: 'STRATA_COMMAND_VERIFY_KEYS', problem: `missing: this service's key, ${service}=<base64> (node infra/nats/command-keys.mjs)` },
    ]);
  }
  try {
    return new CommandVerifier(service, keys);
  } catch (err) {
    throw new ConfigError([{ variable: 'STRATA_COMMAND_VERIFY_KEYS', problem: err instanceof Error ? err.message : String(err) }]);
  }
}

/** The signer of a request sender (the api, test and lab clients), from STRATA_COMMAND_SIGNING_KEY. */
export function commandSignerFrom(env: { STRATA_COMMAND_SIGNING_KEY?: string | undefined } = process.env): CommandSigner {
  const key = env.STRATA_COMMAND_SIGNING_KEY;
  if (key === undefined || key === '') {
    throw new ConfigError([{ variable: 'STRATA_COMMAND_SIGNING_KEY', problem: 'missing: the master secret requests are authenticated with (node infra/nats/command-keys.mjs)' }]);
  }
  try {
    return new CommandSigner(key);
  } catch (err) {
    throw new ConfigError([{ variable: 'STRATA_COMMAND_SIGNING_KEY', problem: err instanceof Error ? err.message : String(err) }]);
  }
}

/**
 * For harnesses (test runs, benchmarks, labs), never services: this
 * process's master secret and every service's entry, made once and put into
 * its environment, so the services it spawns (which inherit the
 * environment) accept what its clients send. Keys already in the
 * environment are kept.
 */
export function ensureHarnessCommandKeys(env: Record<string, string | undefined> = process.env): CommandKeyPair {
  const signingKey = env['STRATA_COMMAND_SIGNING_KEY'];
  const verifyKeys = env['STRATA_COMMAND_VERIFY_KEYS'];
  if (signingKey && verifyKeys) return { signingKey, verifyKey: verifyKeys };
  const pair = generateCommandKeys();
  env['STRATA_COMMAND_SIGNING_KEY'] = pair.signingKey;
  env['STRATA_COMMAND_VERIFY_KEYS'] = pair.verifyKey;
  return pair;
}
