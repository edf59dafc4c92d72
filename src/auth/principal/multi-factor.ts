/**
 * Whether a sign-in's methods (`amr`, RFC 8176) already make two factors: a one-time code after a
 * password (`otp`), or a hardware-bound key with user verification (`hwk` + `user`: a passkey whose
 * authenticator checked a PIN or biometric). The one test used by sign-in (no second step needed)
 * and by policies (`requireMfa` roles).
 */
export function isMultiFactor(amr: readonly string[]): boolean {
  return amr.includes('otp') || (amr.includes('hwk') && amr.includes('user'));
}
