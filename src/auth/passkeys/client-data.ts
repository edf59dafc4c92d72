import { DomainError } from '../../common/problem/domain-error';

/**
 * The challenge a WebAuthn response answers, read from its clientDataJSON before verification so
 * the challenge can be consumed first (the library then checks the same value, signature and all).
 * Anything unreadable is a 400: the response is malformed, not a wrong credential.
 */
export function challengeOf(response: unknown): string {
  const clientDataJSON = (response as { response?: { clientDataJSON?: unknown } } | null)?.response?.clientDataJSON;
  if (typeof clientDataJSON !== 'string' || clientDataJSON.length > 4096) throw malformed();
  try {
    const challenge: unknown = (JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown }).challenge;
    if (typeof challenge === 'string' && challenge.length > 0 && challenge.length <= 128) return challenge;
  } catch {
    // fall through: not JSON
  }
  throw malformed();
}

const malformed = () => new DomainError('badRequest', 'The passkey response is malformed');

/** The library base64url-encodes the challenge it is given: bytes, so the options carry ours as is. */
export const challengeBytes = (challenge: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(challenge, 'base64url'));

const CREDENTIAL_ID = /^[A-Za-z0-9_-]{1,1400}$/;

/** A credential ID as WebAuthn JSON carries it: base64url, at most the column's length. */
export const isCredentialId = (value: unknown): value is string => typeof value === 'string' && CREDENTIAL_ID.test(value);
