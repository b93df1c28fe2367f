import { describe, expect, it } from 'vitest';
import { ConfigError } from './config.js';
import {
  authenticationHeaders,
  CLOCK_SKEW_MS,
  CommandSigner,
  CommandVerifier,
  commandSignerFrom,
  commandVerifierFrom,
  commandVerifyEntry,
  EXPIRES_HEADER,
  generateCommandKeys,
  ISSUED_HEADER,
  parseVerifyKeys,
  RequestRefused,
  serviceKeyOfEntry,
  SIGNATURE_HEADER,
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

describe('command authentication', () => {
  const verifier = new CommandVerifier('ipam', parseVerifyKeys(keys.verifyKey), () => NOW);
  const signedAt = (at: number, to = subject) => new CommandSigner(keys.signingKey, () => at).headers(to, payload);

  it('accepts a current MAC of this service key over this subject and these bytes', () => {
    expect(refusal(() => verifier.verify(subject, signedAt(NOW), payload))).toBe('accepted');
    expect(refusal(() => verifier.verify(subject, signedAt(NOW - SIGNATURE_LIFETIME_MS), payload))).toBe('accepted');
    // Queries too: the same service key.
    expect(refusal(() => verifier.verify('strata.qry.ipam.network.list', signedAt(NOW, 'strata.qry.ipam.network.list'), payload))).toBe('accepted');
  });

  it('refuses expired, future, unsigned, unknown-key, re-addressed and altered requests', () => {
    expect(refusal(() => verifier.verify(subject, signedAt(NOW - SIGNATURE_LIFETIME_MS - CLOCK_SKEW_MS - 1), payload))).toBe('expired');
    expect(refusal(() => verifier.verify(subject, signedAt(NOW + CLOCK_SKEW_MS + 1), payload))).toBe('not_yet_valid');
    expect(refusal(() => verifier.verify(subject, undefined, payload))).toBe('unsigned');
    const stranger = new CommandSigner(generateCommandKeys().signingKey, () => NOW);
    expect(refusal(() => verifier.verify(subject, stranger.headers(subject, payload), payload))).toBe('unknown_key');
    expect(refusal(() => verifier.verify(`${subject}x`, signedAt(NOW), payload))).toBe('bad_signature');
    expect(refusal(() => verifier.verify('strata.cmd.ipam.network.delete', signedAt(NOW), payload))).toBe('bad_signature');
    expect(refusal(() => verifier.verify(subject, signedAt(NOW), new TextEncoder().encode('{"meta":{"tenant":"t","admin":true},"body":{}}')))).toBe('bad_signature');
    // Times are authenticated: moving the expiry breaks the MAC.
    const h = signedAt(NOW);
    h.set(EXPIRES_HEADER, String(NOW + 10 * SIGNATURE_LIFETIME_MS));
    expect(refusal(() => verifier.verify(subject, h, payload))).toBe('bad_signature');
    const h2 = signedAt(NOW);
    h2.set(ISSUED_HEADER, 'soon');
    expect(refusal(() => verifier.verify(subject, h2, payload))).toBe('bad_signature');
    // A truncated or garbage MAC is refused (timingSafeEqual never sees unequal lengths).
    const h3 = signedAt(NOW);
    h3.set(SIGNATURE_HEADER, h3.get(SIGNATURE_HEADER).slice(0, 10));
    expect(refusal(() => verifier.verify(subject, h3, payload))).toBe('bad_signature');
  });

  it('a service key authenticates only requests to that service: ipam cannot command secgroup', () => {
    const secgroup = new CommandVerifier('secgroup', parseVerifyKeys(keys.verifyKey), () => NOW);
    const sgSubject = 'strata.cmd.secgroup.group.create';
    expect(refusal(() => secgroup.verify(sgSubject, signedAt(NOW, sgSubject), payload))).toBe('accepted');
    // What the ipam process holds: its own entry. Used on a request to secgroup, it is an unknown key there.
    const ipamKey = serviceKeyOfEntry(commandVerifyEntry(keys.signingKey, 'ipam'));
    expect(refusal(() => secgroup.verify(sgSubject, authenticationHeaders(ipamKey, sgSubject, payload, NOW), payload))).toBe('unknown_key');
    // The api's MAC for ipam, re-addressed to secgroup: unknown key too.
    expect(refusal(() => secgroup.verify(sgSubject, signedAt(NOW), payload))).toBe('unknown_key');
    // And a verifier never uses another service's entry, even in the same variable.
    expect(() => new CommandVerifier('secgroup', [commandVerifyEntry(keys.signingKey, 'ipam')])).toThrow(/no command verify key for service secgroup/);
  });

  it('has no accept-all mode: a service without its key does not start, nor a sender without a secret', () => {
    expect(() => commandVerifierFrom({}, 'ipam')).toThrow(ConfigError);
    expect(() => commandVerifierFrom({ STRATA_COMMAND_VERIFY_KEYS: 'not-a-key' }, 'ipam')).toThrow(/STRATA_COMMAND_VERIFY_KEYS/);
    expect(() => commandVerifierFrom({ STRATA_COMMAND_VERIFY_KEYS: 'ipam=c2hvcnQ=' }, 'ipam')).toThrow(/service=<base64 of 32 bytes>/);
    expect(() => commandVerifierFrom({ STRATA_COMMAND_VERIFY_KEYS: commandVerifyEntry(keys.signingKey, 'nat') }, 'ipam')).toThrow(/no command verify key for service ipam/);
    expect(() => commandSignerFrom({})).toThrow(/STRATA_COMMAND_SIGNING_KEY: missing/);
    expect(() => commandSignerFrom({ STRATA_COMMAND_SIGNING_KEY: Buffer.alloc(16).toString('base64') })).toThrow(/at least 32 random bytes/);
    expect(() => new CommandVerifier('ipam', [])).toThrow(/refuse every request/);
    expect(() => new CommandSigner(keys.signingKey).headers('strata.evt.ipam.x', payload)).toThrow(/not strata.<cmd\|qry>.<service>.<op>/);
  });

  it('rotation: a service given its entries under the old and the new secret accepts both', () => {
    const next = generateCommandKeys();
    const rotating = commandVerifierFrom(
      { STRATA_COMMAND_VERIFY_KEYS: `${commandVerifyEntry(keys.signingKey, 'ipam')}, ${commandVerifyEntry(next.signingKey, 'ipam')}` },
      'ipam',
    );
    for (const k of [keys, next]) expect(refusal(() => rotating.verify(subject, new CommandSigner(k.signingKey).headers(subject, payload), payload))).toBe('accepted');
    expect(refusal(() => rotating.verify(subject, new CommandSigner(generateCommandKeys().signingKey).headers(subject, payload), payload))).toBe('unknown_key');
  });
});
