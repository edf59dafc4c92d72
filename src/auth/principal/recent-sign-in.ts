import type { Principal } from './principal';

/** How old a sign-in may be to stand in for a password (accounts that have none, e.g. Google-only). */
export const RECENT_SIGN_IN_SECONDS = 5 * 60;

export function signedInRecently(principal: Pick<Principal, 'authTime'>, now = Date.now()): boolean {
  return now / 1000 - principal.authTime <= RECENT_SIGN_IN_SECONDS;
}
