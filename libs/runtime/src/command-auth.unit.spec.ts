import { describe, expect, it } from 'vitest';
import { ConfigError } from './config.js';
import {
  CLOCK_SKEW_MS,
  CommandSigner,
  CommandVerifier,
  commandSignerFrom,
  commandVerifierFrom,
  EXPIRES_HEADER,
  generateCommandKeys,
  ISSUED_HEADER,
  RequestRefused,
  SIGNATURE_LIFETIME_MS,
} from './command-auth.js';

const keys = generateCommandKeys();
const payload = new TextEncoder().encode('{"meta":{"tenant":"t","admin":false},"body":{}}');
const subject = 'strata.cmd.ipam.network.create';
const NOW = 1_800_000_000_000;

function refusal(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof RequestRefused) return err.reason;
    throw err;
  }
  return 'accepted';
}

describe('command signatures', () => {
  const verifier = new CommandVerifier([keys.verifyKey], () => NOW);
  const signedAt = (at: number) => new CommandSigner(keys.signingKey, () => at).headers(subject, payload);

  it('accepts a current signature of a known key over this subject and these bytes', () => {
    expect(refusal(() => verifier.verify(subject, signedAt(NOW), payload))).toBe('accepted');
    expect(refusal(() => verifier.verify(subject, signedAt(NOW - SIGNATURE_LIFETIME_MS), payload))).toBe('accepted');
  });

  it('refuses expired, future, over-long, unsigned, unknown-key and altered requests', () => {
    expect(refusal(() => verifier.verify(subject, signedAt(NOW - SIGNATURE_LIFETIME_MS - CLOCK_SKEW_MS - 1), payload))).toBe('expired');
    expect(refusal(() => verifier.verify(subject, signedAt(NOW + CLOCK_SKEW_MS + 1), payload))).toBe('not_yet_valid');
    expect(refusal(() => verifier.verify(subject, undefined, payload))).toBe('unsigned');
    const stranger = new CommandSigner(generateCommandKeys().signingKey, () => NOW);
    expect(refusal(() => verifier.verify(subject, stranger.headers(subject, payload), payload))).toBe('unknown_key');
    expect(refusal(() => verifier.verify(`${subject}x`, signedAt(NOW), payload))).toBe('bad_signature');
    expect(refusal(() => verifier.verify(subject, signedAt(NOW), new TextEncoder().encode('{"meta":{"tenant":"t","admin":true},"body":{}}')))).toBe('bad_signature');
    // Times are signed: moving the expiry breaks the signature.
    const h = signedAt(NOW);
    h.set(EXPIRES_HEADER, String(NOW + 10 * SIGNATURE_LIFETIME_MS));
    expect(refusal(() => verifier.verify(subject, h, payload))).toBe('bad_signature');
    const h2 = signedAt(NOW);
    h2.set(ISSUED_HEADER, 'soon');
    expect(refusal(() => verifier.verify(subject, h2, payload))).toBe('bad_signature');
  });

  it('has no accept-all mode: a service without verify keys does not start, nor a sender without a key', () => {
    expect(() => commandVerifierFrom({})).toThrow(ConfigError);
    expect(() => commandVerifierFrom({ STRATA_COMMAND_VERIFY_KEYS: 'not-a-key' })).toThrow(/STRATA_COMMAND_VERIFY_KEYS/);
    expect(() => commandSignerFrom({})).toThrow(/STRATA_COMMAND_SIGNING_KEY: missing/);
    expect(() => new CommandVerifier([])).toThrow(/refuse every request/);
    // Several keys during a rotation: each is accepted.
    const next = generateCommandKeys();
    const rotating = commandVerifierFrom({ STRATA_COMMAND_VERIFY_KEYS: `${keys.verifyKey}, ${next.verifyKey}` });
    for (const k of [keys, next]) expect(refusal(() => rotating.verify(subject, new CommandSigner(k.signingKey).headers(subject, payload), payload))).toBe('accepted');
  });
});
