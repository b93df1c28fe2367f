/**
 * Authenticated command and query envelopes (docs/architecture.md, "NATS
 * security"). A service does not trust a request because of the subject it
 * arrived on: any NATS user that may create a JetStream consumer can have
 * messages delivered to any subject. So the sender (in production only the
 * api) signs every request with an Ed25519 private key, and every service
 * verifies the signature against the public keys it is configured with
 * before it looks at the request.
 *
 * The signature travels in NATS headers and covers, in this order:
 *   "strata-request-v1", the subject, the key id, issued-at and expiry
 *   (ms since the epoch), and every byte of the payload (the envelope
 *   JSON: meta with actor, tenant, admin, request id, correlation, at, …,
 *   and the body).
 * A verifier refuses a request whose signature does not verify, whose key
 * it does not know, that has expired, or whose lifetime exceeds
 * MAX_LIFETIME_MS (so a leaked message is replayable for at most that long;
 * a replay is a retry with the same request id and changes nothing).
 *
 * Keys: the private key is PKCS#8 DER, the public keys SPKI DER, both
 * base64 (one line, fits an environment variable). `node
 * infra/nats/command-keys.mjs` prints a fresh pair.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { UnauthenticatedError } from '@strata/errors';
import { ConfigError } from './config.js';

/** How long a signed request stays valid: network and queueing delay, not a session. */
export const SIGNATURE_LIFETIME_MS = 60_000;
/** A verifier refuses anything signed to live longer than this (plus the clock skew below). */
export const MAX_LIFETIME_MS = SIGNATURE_LIFETIME_MS;
/** Clock difference between sender and service that is tolerated. */
export const CLOCK_SKEW_MS = 5_000;

export const SIGNATURE_HEADER = 'Strata-Sig';
export const KEY_ID_HEADER = 'Strata-Key';
export const ISSUED_HEADER = 'Strata-Iat';
export const EXPIRES_HEADER = 'Strata-Exp';

const DOMAIN = 'strata-request-v1';

/** A key pair as the environment carries it (base64 DER). */
export interface CommandKeyPair {
  /** STRATA_COMMAND_SIGNING_KEY of the sender. */
  signingKey: string;
  /** One entry of STRATA_COMMAND_VERIFY_KEYS of every service. */
  verifyKey: string;
}

export function generateCommandKeys(): CommandKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    signingKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    verifyKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

/** First 16 hex digits of the SHA-256 of the public key's DER: names the key on the wire. */
function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex').slice(0, 16);
}

function signedBytes(subject: string, keyId: string, iat: number, exp: number, payload: Uint8Array): Buffer {
  const head = Buffer.from(`${DOMAIN}\n${subject}\n${keyId}\n${iat}\n${exp}\n`, 'utf8');
  return Buffer.concat([head, payload]);
}

export class CommandSigner {
  private readonly key: KeyObject;
  readonly keyId: string;

  constructor(signingKey: string, private readonly now: () => number = Date.now) {
    try {
      this.key = createPrivateKey({ key: Buffer.from(signingKey, 'base64'), format: 'der', type: 'pkcs8' });
    } catch (err) {
      throw new Error('command signing key is not a base64 PKCS#8 Ed25519 private key', { cause: err });
    }
    if (this.key.asymmetricKeyType !== 'ed25519') throw new Error(`command signing key is ${this.key.asymmetricKeyType}, not ed25519`);
    this.keyId = keyIdOf(createPublicKey(this.key));
  }

  /** The headers that authenticate `payload` sent to `subject`. */
  headers(subject: string, payload: Uint8Array): MsgHdrs {
    const iat = this.now();
    const exp = iat + SIGNATURE_LIFETIME_MS;
    const signature = sign(null, signedBytes(subject, this.keyId, iat, exp, payload), this.key);
    const h = natsHeaders();
    h.set(KEY_ID_HEADER, this.keyId);
    h.set(ISSUED_HEADER, String(iat));
    h.set(EXPIRES_HEADER, String(exp));
    h.set(SIGNATURE_HEADER, signature.toString('base64'));
    return h;
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
  private readonly keys = new Map<string, KeyObject>();

  /** `verifyKeys`: base64 SPKI DER Ed25519 public keys (several during a key rotation). */
  constructor(verifyKeys: readonly string[], private readonly now: () => number = Date.now) {
    if (verifyKeys.length === 0) throw new Error('no command verify keys: a service would refuse every request');
    for (const text of verifyKeys) {
      let key: KeyObject;
      try {
        key = createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
      } catch (err) {
        throw new Error(`command verify key ${text.slice(0, 12)}… is not a base64 SPKI public key`, { cause: err });
      }
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`command verify key ${text.slice(0, 12)}… is ${key.asymmetricKeyType}, not ed25519`);
      this.keys.set(keyIdOf(key), key);
    }
  }

  /** Throws RequestRefused unless `payload` on `subject` carries a valid, current signature of a known key. */
  verify(subject: string, hdrs: MsgHdrs | undefined, payload: Uint8Array): void {
    const signature = hdrs?.get(SIGNATURE_HEADER) ?? '';
    const keyId = hdrs?.get(KEY_ID_HEADER) ?? '';
    if (signature === '' || keyId === '') throw new RequestRefused('unsigned', 'request is not signed');
    const key = this.keys.get(keyId);
    if (key === undefined) throw new RequestRefused('unknown_key', `request is signed with unknown key ${keyId.slice(0, 16)}`);
    const iat = Number(hdrs?.get(ISSUED_HEADER));
    const exp = Number(hdrs?.get(EXPIRES_HEADER));
    if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) throw new RequestRefused('bad_signature', 'request signature has no valid issue and expiry times');
    if (!verify(null, signedBytes(subject, keyId, iat, exp, payload), key, Buffer.from(signature, 'base64'))) {
      throw new RequestRefused('bad_signature', 'request signature does not verify');
    }
    // Times are checked after the signature: only then are they the signer's.
    const now = this.now();
    if (exp - iat > MAX_LIFETIME_MS) throw new RequestRefused('too_long_lived', `request signature lives ${exp - iat} ms, more than ${MAX_LIFETIME_MS} ms`);
    if (iat > now + CLOCK_SKEW_MS) throw new RequestRefused('not_yet_valid', 'request signature is issued in the future');
    if (now > exp + CLOCK_SKEW_MS) throw new RequestRefused('expired', 'request signature has expired');
  }
}

/** The comma-separated STRATA_COMMAND_VERIFY_KEYS value as a list. */
export function parseVerifyKeys(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The verifier of a service that answers requests; its absence is a configuration error, never "accept all". */
export function commandVerifierFrom(env: { STRATA_COMMAND_VERIFY_KEYS?: string | undefined }): CommandVerifier {
  const keys = parseVerifyKeys(env.STRATA_COMMAND_VERIFY_KEYS ?? '');
  if (keys.length === 0) {
    throw new ConfigError([{ variable: 'STRATA_COMMAND_VERIFY_KEYS', problem: 'missing: the public keys of the command signers (node infra/nats/command-keys.mjs)' }]);
  }
  try {
    return new CommandVerifier(keys);
  } catch (err) {
    throw new ConfigError([{ variable: 'STRATA_COMMAND_VERIFY_KEYS', problem: err instanceof Error ? err.message : String(err) }]);
  }
}

/** The signer of a request sender (the api, test and lab clients), from STRATA_COMMAND_SIGNING_KEY. */
export function commandSignerFrom(env: { STRATA_COMMAND_SIGNING_KEY?: string | undefined } = process.env): CommandSigner {
  const key = env.STRATA_COMMAND_SIGNING_KEY;
  if (key === undefined || key === '') {
    throw new ConfigError([{ variable: 'STRATA_COMMAND_SIGNING_KEY', problem: 'missing: the private key requests are signed with (node infra/nats/command-keys.mjs)' }]);
  }
  try {
    return new CommandSigner(key);
  } catch (err) {
    throw new ConfigError([{ variable: 'STRATA_COMMAND_SIGNING_KEY', problem: err instanceof Error ? err.message : String(err) }]);
  }
}

/**
 * For harnesses (test runs, benchmarks, labs), never services: this
 * process's key pair, made once and put into its environment, so the
 * services it spawns (which inherit the environment) verify what its
 * clients sign. A pair already in the environment is kept.
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
