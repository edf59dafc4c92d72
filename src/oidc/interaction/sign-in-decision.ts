import type { InteractionDetails } from 'oidc-provider';
import { ACR_MFA, ACR_SINGLE_FACTOR } from '../provider-configuration';

/** The Bastion session behind the browser, as the interaction sees it. */
export interface BastionSession {
  userId: string;
  sessionId: string;
  amr: string[];
  /** Seconds since the epoch. */
  authTime: number;
}

export type SignInDecision =
  | { kind: 'sign-in'; fresh: boolean; mfa: boolean }
  | { kind: 'finish'; acr: string }
  | { kind: 'consent'; acr: string };

/** Methods that count as a second factor (RFC 8176): a one-time code, a hardware-bound key. */
const SECOND_FACTORS = new Set(['otp', 'hwk', 'mfa']);

/** Bastion's own amr names that RFC 8176 spells differently: an external identity provider is `fed`. */
const RFC8176_AMR: Record<string, string> = { google: 'fed' };

/** A Bastion session's amr as the ID token states it (RFC 8176 values). */
export const oidcAmr = (amr: string[]) => [...new Set(amr.map((m) => RFC8176_AMR[m] ?? m))];

export const hasSecondFactor = (amr: string[]) => amr.some((m) => SECOND_FACTORS.has(m));

/**
 * What an interaction needs, from its request and the Bastion session: a sign-in (fresh when
 * `prompt=login` or `max_age` says the current one is too old; with a second factor when
 * `acr_values` asks for urn:bastion:acr:mfa and the session has none), or nothing more than
 * finishing the login, or the consent page.
 */
export function decideSignIn(details: InteractionDetails, session: BastionSession | null, now: number): SignInDecision {
  const wantsMfa = String(details.params.acr_values ?? '').split(' ').includes(ACR_MFA);
  if (!session) return { kind: 'sign-in', fresh: false, mfa: wantsMfa };
  const atLogin = details.prompt.name === 'login';
  const prompts = String(details.params.prompt ?? '').split(' ');
  const maxAge = details.params.max_age === undefined ? undefined : Number(details.params.max_age);
  const tooOld = atLogin && ((prompts.includes('login') && session.authTime < details.iat) || (maxAge !== undefined && session.authTime + maxAge < now));
  const mfaMissing = wantsMfa && !hasSecondFactor(session.amr);
  if (tooOld || mfaMissing) return { kind: 'sign-in', fresh: true, mfa: wantsMfa };
  const acr = hasSecondFactor(session.amr) ? ACR_MFA : ACR_SINGLE_FACTOR;
  return atLogin ? { kind: 'finish', acr } : { kind: 'consent', acr };
}
