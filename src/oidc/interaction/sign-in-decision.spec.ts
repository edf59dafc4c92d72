import type { InteractionDetails } from 'oidc-provider';
import { decideSignIn, oidcAmr, type BastionSession } from './sign-in-decision';

const NOW = 1_800_000_000;
const details = (params: Record<string, unknown> = {}, prompt: 'login' | 'consent' = 'login'): InteractionDetails =>
  ({ uid: 'u', iat: NOW - 5, exp: NOW + 600, returnTo: '/oidc/auth/u', params: { client_id: 'c', ...params }, prompt: { name: prompt, reasons: [], details: {} } }) as InteractionDetails;
const session = (amr: string[], authTime = NOW - 3600): BastionSession => ({ userId: 'user', sessionId: 's', amr, authTime });

describe('decideSignIn: what an interaction needs from the Bastion session', () => {
  it('no session: sign in (with a second factor when acr_values asks for it)', () => {
    expect(decideSignIn(details(), null, NOW)).toEqual({ kind: 'sign-in', fresh: false, mfa: false });
    expect(decideSignIn(details({ acr_values: 'urn:bastion:acr:mfa' }), null, NOW)).toEqual({ kind: 'sign-in', fresh: false, mfa: true });
  });

  it('a session: finish with the acr its amr earns', () => {
    expect(decideSignIn(details(), session(['pwd']), NOW)).toEqual({ kind: 'finish', acr: 'urn:bastion:acr:sfa' });
    expect(decideSignIn(details(), session(['pwd', 'otp']), NOW)).toEqual({ kind: 'finish', acr: 'urn:bastion:acr:mfa' });
    expect(decideSignIn(details(), session(['hwk', 'user']), NOW)).toEqual({ kind: 'finish', acr: 'urn:bastion:acr:mfa' });
  });

  it('acr_values=urn:bastion:acr:mfa on a single-factor session: a fresh sign-in with a second factor', () => {
    expect(decideSignIn(details({ acr_values: 'urn:bastion:acr:mfa' }), session(['pwd']), NOW)).toEqual({ kind: 'sign-in', fresh: true, mfa: true });
    expect(decideSignIn(details({ acr_values: 'urn:bastion:acr:mfa' }), session(['pwd', 'otp']), NOW).kind).toBe('finish');
  });

  it('prompt=login: a sign-in newer than the interaction', () => {
    expect(decideSignIn(details({ prompt: 'login' }), session(['pwd']), NOW)).toEqual({ kind: 'sign-in', fresh: true, mfa: false });
    expect(decideSignIn(details({ prompt: 'login' }), session(['pwd'], NOW - 1), NOW).kind).toBe('finish');
  });

  it('max_age: a sign-in at most that old', () => {
    expect(decideSignIn(details({ max_age: 600 }), session(['pwd'], NOW - 601), NOW).kind).toBe('sign-in');
    expect(decideSignIn(details({ max_age: 600 }), session(['pwd'], NOW - 599), NOW).kind).toBe('finish');
  });

  it('the consent step never asks to sign in again for prompt or max_age', () => {
    expect(decideSignIn(details({ prompt: 'login', max_age: 1 }, 'consent'), session(['pwd']), NOW)).toEqual({ kind: 'consent', acr: 'urn:bastion:acr:sfa' });
  });
});

describe('oidcAmr: RFC 8176 values in ID tokens', () => {
  it('states a Google sign-in as fed and keeps the rest', () => {
    expect(oidcAmr(['google'])).toEqual(['fed']);
    expect(oidcAmr(['google', 'otp'])).toEqual(['fed', 'otp']);
    expect(oidcAmr(['pwd', 'otp'])).toEqual(['pwd', 'otp']);
    expect(oidcAmr(['hwk', 'user'])).toEqual(['hwk', 'user']);
  });
});
