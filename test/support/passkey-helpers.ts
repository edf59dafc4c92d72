import WebAuthnEmulator, { AuthenticatorEmulator, PasskeysCredentialsMemoryRepository } from 'nid-webauthn-emulator';
import { bearer } from './auth-helpers';
import type { TestApp } from './test-app';

/** The origin test apps expect (APP_URL http://localhost:3000, so RP ID localhost). */
export const ORIGIN = 'http://localhost:3000';

/**
 * A software authenticator holding its own passkeys. `verified: false` gives the same passkeys
 * without user verification (as a security key without PIN); `counterStep` how far the signature
 * counter moves per use.
 */
export function authenticator(repository = new PasskeysCredentialsMemoryRepository(), options: { verified?: boolean } = {}): WebAuthnEmulator & { repository: PasskeysCredentialsMemoryRepository } {
  const uv = options.verified ?? true;
  const emulator = new WebAuthnEmulator(
    new AuthenticatorEmulator({
      credentialsRepository: repository,
      verifications: { userPresent: true, userVerified: uv },
      userMakeCredentialInteraction: (user) => ({ user, options: { uv, up: true } }),
      userGetAssertionInteraction: (user) => ({ user, options: { uv, up: true } }),
    }),
  );
  return Object.assign(emulator, { repository });
}

/** Registers a passkey through the API for the holder of `accessToken`; returns the verify answer. */
export async function registerPasskey(t: TestApp, accessToken: string, device: WebAuthnEmulator, name = 'Laptop', origin = ORIGIN) {
  const options = await t.app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/registration/options', headers: bearer(accessToken) });
  if (options.statusCode !== 200) throw new Error(`registration options: ${options.statusCode} ${options.body}`);
  const response = device.createJSON(origin, options.json());
  return t.app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/registration/verify', headers: bearer(accessToken), payload: { name, response } });
}

/** A passwordless sign-in ceremony: fresh options, the authenticator's answer (not yet sent). */
export async function assertion(t: TestApp, device: WebAuthnEmulator, origin = ORIGIN) {
  const options = await t.app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/options' });
  if (options.statusCode !== 200) throw new Error(`sign-in options: ${options.statusCode} ${options.body}`);
  return device.getJSON(origin, options.json());
}

export const passkeySignIn = (t: TestApp, response: unknown, mode?: 'cookie') =>
  t.app.inject({ method: 'POST', url: `/api/v1/auth/passkeys/verify${mode ? `?mode=${mode}` : ''}`, payload: { response: response as Record<string, unknown> } });
